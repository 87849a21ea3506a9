// The bet slip's logic, without the DOM (tested under Node): one Idempotency-Key per intent,
// the request body, and what each API reply means for the fan.
import { STATUS_LABELS, SUSPENSION_WORDS, formatCents, formatOdds, moneyToCents } from "./format.js";
import { saferGamblingRefusal } from "./safer-gambling.js";

// One key per intent: the same bet sent again (a double click, a retry after a lost reply)
// carries the same key, so the server places it once. Any change to what is being bet, or a
// definite answer, starts a new intent.
export class BetIntent {
  constructor(newKey = () => globalThis.crypto.randomUUID()) {
    this.newKey = newKey;
    this.fingerprint = null;
    this.current = null;
  }

  keyFor(body) {
    const fingerprint = JSON.stringify(body);
    if (fingerprint !== this.fingerprint || !this.current) {
      this.fingerprint = fingerprint;
      this.current = this.newKey();
    }
    return this.current;
  }

  // The server answered for sure (placed, or refused and wrote nothing): the next press is a new bet.
  answered() {
    this.current = null;
    this.fingerprint = null;
  }
}

// One selection of the slip: a match, a market of it and one of its selections, at the price the
// bettor saw (the quote). A slip of several (an accumulator) holds a list of these.
export function makePick({ match, market = "1x2", selection, odds, teams = {}, status = "open" }) {
  return { match, market, selection, odds, teams, status };
}

export function betBody({ match, market = "1x2", selection, stake, odds, accept }) {
  return { match, market, selection, stake, odds, accept_odds_change: accept };
}

// The stake against the selection's published maximum (a decimal string, or null: no maximum
// known): the words to show, or "" when it fits. The server checks again under its lock.
export function maxStakeError(stakeCents, maxStake) {
  const most = maxStake === null || maxStake === undefined ? null : moneyToCents(maxStake);
  if (most === null || stakeCents <= most) return "";
  return most === 0
    ? "This selection takes no more money now."
    : `The most this selection takes now is ${formatCents(most)}: lower the stake.`;
}

// Why the book rejected an in-play bet at the end of its delay, in words (the bet's `reason`,
// docs/in-play.md#the-bet-delay).
export const REJECTION_WORDS = {
  suspended_during_delay: "the markets were suspended during the bet delay (a goal, a card or a penalty)",
  odds_changed: "the price moved during the bet delay beyond what you accept",
  market_closed: "the market closed during the bet delay",
  timed_out: "the bet waited too long for a decision",
  stake_too_high: "the stake is above what the selection takes now",
  stake_limit: "the stake is above your stake limit",
  loss_limit_reached: "it would take you past your loss limit",
  on_break: "you are on a break",
  self_excluded: "you are self-excluded",
};

// How long until an in-play bet is decided, in whole seconds (0 once due), from its `decide_at`.
export function secondsToDecision(bet, nowMs) {
  const at = Date.parse(bet?.decide_at ?? "");
  return Number.isFinite(at) ? Math.max(0, Math.ceil((at - nowMs) / 1000)) : null;
}

// A bet's status as the slip tells it: "pending" (waiting for the in-play delay), "accepted"
// (placed: open, or already settled) or "rejected" (nothing kept, the stake given back).
export function betPhase(bet) {
  const status = bet?.status;
  if (status === "pending") return "pending";
  if (status === "rejected") return "rejected";
  return "accepted";
}

export function rejectionText(bet) {
  const reason = bet?.reason ?? "";
  return `Bet #${bet.id} was not accepted: ${REJECTION_WORDS[reason] || reason || "the book refused it"}. Your stake is back in your balance.`;
}

// Replies after which the server may or may not have placed the bet: keep the key, so that
// pressing again can only replay it.
export function isAmbiguous(status) {
  return status === 0 || status >= 500;
}

const FIELD_OF = { stake: "stake", odds: "odds", accept_odds_change: "accept", selection: "odds", market: "odds", match: "general" };

function words(messages) {
  return [].concat(messages).map(String).join(" ");
}

// What the reply means: {kind: "accepted", bet}, {kind: "odds_changed", from, to}, or
// {kind: "refused", fields: {stake?, odds?, accept?, general?}} with every message in words.
// {kind: "pending", bet} is an in-play bet waiting for its delay (202); {kind: "refused"} may
// carry `maxStake` (409 stake_too_high: the selection's maximum, not the account's), or `link`
// (the account's own safer-gambling refusals point to its settings).
export function interpretReply({ status, body = {}, retryAfter = null, selection, quoted }) {
  if (status === 202 || (status >= 200 && status < 300 && body.status === "pending")) return { kind: "pending", bet: body };
  if (status >= 200 && status < 300) return { kind: "accepted", bet: body };
  if (status === 409 && body.code === "odds_changed" && body.odds && body.odds[selection] !== undefined && body.odds[selection] !== null) {
    return { kind: "odds_changed", from: quoted, to: body.odds[selection], version: body.version };
  }
  const fields = {};
  const add = (field, text) => { fields[field] = fields[field] ? `${fields[field]} ${text}` : text; };
  const ruled = status === 403 || status === 409 ? saferGamblingRefusal(body) : null;
  if (ruled) {
    add(ruled.field, ruled.text);
    return { kind: "refused", fields, link: ruled.link };
  }
  if (status === 0) {
    add("general", "No answer from the server. Press “Place bet” again: it is sent with the same key, so it is placed at most once.");
  } else if (status === 400 && body.errors) {
    for (const [name, messages] of Object.entries(body.errors)) add(FIELD_OF[name] || "general", words(messages));
  } else if (status === 401) {
    add("general", "You are signed out: sign in again to bet.");
  } else if (status === 403) {
    add("general", /csrf/i.test(body.detail || "") ? "This page is out of date: reload it, then bet again." : body.detail || "You may not place this bet.");
  } else if (status === 409 && body.code === "insufficient_funds") {
    add("stake", `Your balance is ${body.balance}: lower the stake.`);
  } else if (status === 409 && body.code === "stake_too_high") {
    add("stake", maxStakeError(Number.MAX_SAFE_INTEGER, body.max_stake ?? "0") || "The stake is too high for this selection now: lower it.");
    return { kind: "refused", fields, maxStake: body.max_stake ?? null };
  } else if (status === 409 && body.code === "market_suspended") {
    add("general", `Betting is suspended for a moment (${SUSPENSION_WORDS[body.reason] || "trader"}): try again when the prices come back.`);
  } else if (status === 409 && body.code === "selection_closed") {
    add("odds", "This selection is closed: the book gives it no price now. Pick another.");
  } else if (status === 409 && body.code === "market_closed") {
    add("general", `This market is ${(STATUS_LABELS[body.status] || body.status || "closed").toLowerCase()}: it takes no bets now.`);
  } else if (status === 409 && body.code === "match_started") {
    add("general", "This match has kicked off: it takes no pre-match bets now.");
  } else if (status === 409 && body.code === "odds_changed") {
    add("odds", "The price moved and this selection has no price now. Pick another.");
  } else if (status === 409 && body.code === "match_not_open") {
    add("general", `This match is ${(STATUS_LABELS[body.status] || body.status || "not open").toLowerCase()}: it takes no bets now.`);
  } else if (status === 428) {
    // The API requires an Idempotency-Key, which this slip always sends: only a stale page lacks it.
    add("general", "This page is out of date: reload it, then bet again.");
  } else if (status === 422) {
    add("general", "This bet's key was already used for a different bet: change nothing and press again.");
  } else if (status === 429) {
    add("general", `Too many bets in a short time: wait ${retryAfter || "a few"} s, then press again.`);
  } else if (status >= 500) {
    add("general", `The server could not take the bet (HTTP ${status}). Press again: the same key makes sure it is placed at most once.`);
  } else {
    add("general", body.detail || `The bet was refused (HTTP ${status}).`);
  }
  return { kind: "refused", fields };
}

export function oddsChangedText(from, to) {
  const better = Number(to) > Number(from);
  return `The price moved from ${formatOdds(from)} to ${formatOdds(to)} (${better ? "better" : "worse"} for you). Accept ${formatOdds(to)}?`;
}

// The bet slip (DOM): the selection the fan clicked (any market of any match), the stake and
// potential return, the selection's maximum stake, what to do if the price moves, and the answer
// in words next to the field it concerns; an in-play bet shows as pending until the book accepts
// or rejects it. The logic it relies on (keys, arithmetic, replies, market words) lives in ../lib
// and is tested under Node.
import { ARROWS, BETTABLE, STATUS_LABELS, direction, formatCents, formatOdds, moneyToCents, parseStake, potentialReturnCents } from "../lib/format.js";
import { pickName, selectionView, withMatchFrame } from "../lib/markets.js";
import {
  BetIntent, betBody, betPhase, interpretReply, isAmbiguous, makePick, maxStakeError, oddsChangedText, rejectionText,
  secondsToDecision,
} from "../lib/slip.js";
import { apiFetch } from "../lib/api.js";
import { stateOf } from "./match-view.js";

const $ = (id) => document.getElementById(id);
// An in-play bet's decision comes on the private socket; if it has not this long after its
// `decide_at` (a socket that was down), the slip asks the API, then again every POLL_MS.
const POLL_AFTER_DECISION_MS = 3000;
const DEFAULT_DELAY_MS = 6000; // INPLAY_BET_DELAY_SECONDS, when the reply has no decide_at
const POLL_MS = 3000;
const MAX_POLLS = 20;

export class BetSlip {
  constructor({ stream }) {
    this.root = $("bet-slip");
    this.form = $("slip-form"); // absent when signed out: the slip then offers sign-in
    this.intent = new BetIntent();
    this.pick = null; // makePick(...)
    this.state = null; // the pick's match as last seen (prices, statuses, maximum stakes)
    this.inFlight = false;
    this.trigger = null;
    this.waiting = new Map(); // bet id -> {pick, polls, timer}: in-play bets waiting for a decision
    $("slip-close").addEventListener("click", () => this.close());
    this.root.addEventListener("keydown", (event) => { if (event.key === "Escape") this.close(); });
    stream.addEventListener("odds", (event) => this.onLive(event.detail.state));
    stream.addEventListener("match", (event) => this.onMatchFrame(event.detail));
    stream.addEventListener("bet", (event) => this.onBet(event.detail));
    if (!this.form) return;
    this.form.addEventListener("submit", (event) => { event.preventDefault(); this.submit(); });
    $("slip-stake").addEventListener("input", () => { this.showField("stake", ""); this.showReturn(); });
    $("slip-accept").addEventListener("change", () => this.showField("accept", ""));
    $("slip-prompt-accept").addEventListener("click", () => this.acceptNewPrice());
    $("slip-prompt-cancel").addEventListener("click", () => this.hidePrompt(true));
  }

  // A price button was pressed: that price, as shown, is the quote.
  choose({ pick, state, trigger }) {
    this.pick = makePick(pick);
    this.state = state || null;
    this.trigger = trigger || null;
    this.root.hidden = false;
    $("slip-match").textContent = `${pick.teams.home_team} v ${pick.teams.away_team}`;
    if (!this.form) return;
    $("slip-selection").textContent = pickName(this.pick.market, this.pick.selection, this.pick.teams);
    $("slip-odds").textContent = formatOdds(this.pick.odds);
    $("slip-live").textContent = "";
    this.showResult("", "");
    for (const field of ["stake", "odds", "accept", "general"]) this.showField(field, "");
    this.hidePrompt(false);
    this.showReturn();
    this.showBettable();
    $("slip-stake").focus();
    $("slip-stake").select();
  }

  close() {
    this.root.hidden = true;
    this.pick = null;
    this.trigger?.focus(); // back where the fan was
  }

  onLive(state) {
    if (!this.pick || state.match !== this.pick.match) return;
    this.state = state;
    if (!this.form) return;
    const now = selectionView(state, this.pick.market, this.pick.selection).price;
    const dir = direction(this.pick.odds, now);
    $("slip-live").textContent = dir ? `now ${formatOdds(now)} ${ARROWS[dir]}` : "";
    this.showBettable();
  }

  onMatchFrame(frame) {
    if (!this.pick || frame.match !== this.pick.match) return;
    this.state = this.state ? withMatchFrame(this.state, frame) : { match: frame.match, status: frame.status, suspended_reason: frame.suspended_reason };
    this.pick.status = this.state.status;
    this.showBettable();
  }

  // Whether the picked selection takes bets now (its match's and market's status, its price),
  // and the most it takes.
  showBettable() {
    if (!this.form || !this.pick) return;
    const view = this.state ? selectionView(this.state, this.pick.market, this.pick.selection) : null;
    const open = view ? view.bettable : BETTABLE.has(this.pick.status);
    const why = view?.why || `This match is ${(STATUS_LABELS[this.pick.status] || this.pick.status).toLowerCase()}`;
    $("slip-submit").disabled = !open || this.inFlight;
    this.showField("general", open ? "" : `${why}: it takes no bets now.`);
    const most = view?.maxStake ?? null;
    $("slip-max").textContent = most === null ? "" : `Maximum stake now: ${formatCents(moneyToCents(most) ?? 0)}`;
    $("slip-max").hidden = most === null;
  }

  showReturn() {
    const stake = parseStake($("slip-stake").value);
    $("slip-return").textContent = stake.error || !this.pick ? "–" : formatCents(potentialReturnCents(stake.cents, this.pick.odds));
  }

  showField(field, text, link = null) {
    const box = $(`slip-${field === "general" ? "error" : `${field}-error`}`);
    showWithLink(box, text, link);
    const input = { stake: $("slip-stake"), accept: $("slip-accept") }[field];
    if (input) input.toggleAttribute("aria-invalid", Boolean(text));
  }

  showResult(text, phase) {
    const box = $("slip-result");
    box.textContent = text;
    box.dataset.phase = phase;
  }

  hidePrompt(restoreFocus) {
    $("slip-prompt").hidden = true;
    if (restoreFocus) $("slip-submit").focus();
  }

  acceptNewPrice() {
    this.pick.odds = this.newOdds;
    $("slip-odds").textContent = formatOdds(this.pick.odds);
    $("slip-live").textContent = "";
    this.hidePrompt(false);
    this.showReturn();
    this.submit();
  }

  setBusy(busy) {
    this.inFlight = busy;
    const button = $("slip-submit");
    button.setAttribute("aria-busy", String(busy));
    button.textContent = busy ? "Placing…" : "Place bet";
    if (busy) button.disabled = true;
    else this.showBettable();
  }

  async submit() {
    if (this.inFlight || !this.pick) return; // one request at a time, whatever the clicks
    for (const field of ["stake", "odds", "accept", "general"]) this.showField(field, "");
    this.showResult("", "");
    const stake = parseStake($("slip-stake").value);
    const tooHigh = stake.error ? "" : maxStakeError(stake.cents, this.state ? selectionView(this.state, this.pick.market, this.pick.selection).maxStake : null);
    if (stake.error || tooHigh) {
      this.showField("stake", stake.error || tooHigh);
      $("slip-stake").focus();
      return;
    }
    const pick = this.pick;
    const body = betBody({ match: pick.match, market: pick.market, selection: pick.selection, stake: stake.text, odds: pick.odds, accept: $("slip-accept").value });
    const key = this.intent.keyFor(body);
    this.setBusy(true);
    // No answer is status 0: the key stays, so pressing again can only replay this bet.
    const { status, body: reply, headers } = await apiFetch("POST", "/api/bets/", { body, headers: { "Idempotency-Key": key } });
    this.setBusy(false);
    const retryAfter = headers?.get("Retry-After") ?? null;
    if (!isAmbiguous(status)) this.intent.answered();
    this.showReply(interpretReply({ status, body: reply || {}, retryAfter, selection: pick.selection, quoted: pick.odds }), pick);
  }

  describeBet(bet, pick) {
    const back = potentialReturnCents(Math.round(Number(bet.stake) * 100), bet.odds);
    const what = pickName(bet.market || pick.market, bet.selection, pick.teams);
    return `${bet.stake} on ${what} at ${formatOdds(bet.odds)}, returns ${formatCents(back)} if it wins`;
  }

  showReply(outcome, pick) {
    if (outcome.kind === "accepted") {
      const bet = outcome.bet;
      this.showResult(`Bet #${bet.id} placed: ${this.describeBet(bet, pick)}.`, "accepted");
      this.root.dispatchEvent(new CustomEvent("placed", { detail: bet }));
      return;
    }
    if (outcome.kind === "pending") {
      this.follow(outcome.bet, pick);
      return;
    }
    if (outcome.kind === "odds_changed") {
      this.newOdds = outcome.to;
      $("slip-prompt-text").textContent = oddsChangedText(outcome.from, outcome.to);
      $("slip-prompt-accept").textContent = `Accept ${formatOdds(outcome.to)}`;
      $("slip-prompt").hidden = false;
      $("slip-prompt-accept").focus();
      return;
    }
    if (outcome.maxStake !== undefined && outcome.maxStake !== null && this.state) {
      // The server's maximum is the newest: show it until the next frame brings its own.
      const key = pick.market;
      this.state = { ...this.state, max_stakes: { ...this.state.max_stakes, [key]: { ...(this.state.max_stakes?.[key] || {}), [pick.selection]: outcome.maxStake } } };
      this.showBettable();
    }
    for (const [field, text] of Object.entries(outcome.fields)) this.showField(field, text, outcome.link);
    if (outcome.fields.stake) $("slip-stake").focus();
  }

  // An in-play bet (202, pending): say so, then wait for its decision on the private socket,
  // asking the API if it does not come.
  follow(bet, pick) {
    const wait = secondsToDecision(bet, Date.now());
    const when = wait ? `about ${wait} s` : "a few seconds";
    this.showResult(`Bet #${bet.id} pending: in-play bets wait ${when} before the book accepts them (${this.describeBet(bet, pick)}).`, "pending");
    this.shownBet = bet.id;
    const entry = { pick, polls: 0, timer: null };
    this.waiting.set(bet.id, entry);
    const poll = async () => {
      if (!this.waiting.has(bet.id)) return;
      entry.polls += 1;
      const reply = await apiFetch("GET", `/api/bets/${bet.id}/`);
      if (reply.ok) this.onBet(reply.body);
      if (this.waiting.has(bet.id) && entry.polls < MAX_POLLS) entry.timer = setTimeout(poll, POLL_MS);
    };
    entry.timer = setTimeout(poll, (wait === null ? DEFAULT_DELAY_MS : wait * 1000) + POLL_AFTER_DECISION_MS);
  }

  // A `bet` event (or the API's answer) about a bet waiting for its decision.
  onBet(bet) {
    const entry = this.waiting.get(bet?.id);
    if (!entry || betPhase(bet) === "pending") return;
    clearTimeout(entry.timer);
    this.waiting.delete(bet.id);
    if (this.shownBet !== bet.id) return;
    if (betPhase(bet) === "accepted") {
      this.showResult(`Bet #${bet.id} accepted: ${this.describeBet(bet, entry.pick)}.`, "accepted");
      this.root.dispatchEvent(new CustomEvent("placed", { detail: bet }));
    } else {
      this.showResult(rejectionText(bet), "rejected");
    }
  }
}

// Words in `box`, then a link after them when there is one (`{href, text}`); hidden when empty.
export function showWithLink(box, text, link = null) {
  box.textContent = text;
  if (text && link) {
    const anchor = document.createElement("a");
    anchor.href = link.href;
    anchor.textContent = link.text;
    box.append(" ", anchor);
  }
  box.hidden = !text;
}

// Wires every price button under `container` (one listener, so cards added later work too).
export function bindPriceButtons(container, slip) {
  container.addEventListener("click", (event) => {
    const button = event.target.closest(".price-button");
    if (!button || button.disabled) return;
    const root = button.closest("[data-match-id]");
    slip.choose({
      pick: {
        match: Number(root.dataset.matchId),
        market: button.dataset.market || "1x2",
        selection: button.dataset.selection,
        odds: Number(button.querySelector(".price").textContent), // the price the fan saw is the quote
        teams: {
          home_team: root.querySelector('[data-role="name-home"]').textContent,
          away_team: root.querySelector('[data-role="name-away"]').textContent,
        },
        status: root.dataset.status,
      },
      state: stateOf(root),
      trigger: button,
    });
  });
}

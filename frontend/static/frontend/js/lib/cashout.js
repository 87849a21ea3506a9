// Cash-out on "My bets", without the DOM (tested under Node): what the button says for a live
// `cashout` frame, and what each API reply of a quote or an acceptance means.

const REASON_WORDS = {
  market_suspended: "suspended for a moment",
  cashout_value_changed: "its value moved down",
  timed_out: "not decided in time",
  market_closed: "waiting for the result",
  leg_lost: "a leg has lost",
  bet_not_open: "settled",
  not_priced: "prices on their way",
  no_value: "no value now",
};

// The button for a bet's value: {enabled, text}. A null value says why there is none.
export function cashoutButton({ value, reason }) {
  if (value === null || value === undefined) {
    return { enabled: false, text: `Cash out: ${REASON_WORDS[reason] || "not offered now"}` };
  }
  return { enabled: true, text: `Cash out ${value}` };
}

// A quote's reply: {kind: "quoted", quote, amount, expiresAt} or {kind: "refused", text}.
export function interpretQuote({ status, body = {} }) {
  if (status === 201) return { kind: "quoted", quote: body.quote, amount: body.amount, expiresAt: body.expires_at };
  return { kind: "refused", text: refusalText(status, body) };
}

// An acceptance's reply: {kind: "cashed_out", bet}, {kind: "pending", text} (in play: decided
// after the bet delay, by a `cashout_decision` frame) or {kind: "refused", text}. A replayed
// acceptance is the same answer.
export function interpretAccept({ status, body = {} }) {
  if (status === 200) return { kind: "cashed_out", bet: body };
  if (status === 202) return { kind: "pending", text: `Cash-out of ${body.amount} requested: in play, it is confirmed in a few seconds.` };
  return { kind: "refused", text: refusalText(status, body) };
}

// What a `cashout_decision` frame (an in-play acceptance after the bet delay) tells the bettor.
export function decisionText({ status, amount, reason }) {
  if (status === "accepted") return `Cashed out for ${amount}.`;
  if (status === "pending") return `Cash-out of ${amount} requested: in play, it is confirmed in a few seconds.`;
  return `Cash-out refused: ${REASON_WORDS[reason] || reason || "not offered now"}. The bet stays open.`;
}

function refusalText(status, body) {
  if (status === 0) return "No answer from the server: press again (the same quote cashes out at most once).";
  if (body.code === "cashout_quote_expired") return "The offer expired: press again for a new one.";
  if (body.code === "market_suspended") return "A market of this bet is suspended: try again when it reopens.";
  if (body.code === "cashout_pending") return "A cash-out of this bet is waiting for its decision.";
  if (body.code === "cashout_refused") return `Cash-out refused: ${REASON_WORDS[body.reason] || body.reason}. Ask for a new offer.`;
  if (body.code === "cashout_unavailable") return `No cash-out: ${REASON_WORDS[body.reason] || body.detail || "not offered now"}.`;
  return body.detail || `Cash-out refused (HTTP ${status}).`;
}

// Cash-out on "My bets", without the DOM (tested under Node): what the button says for a live
// `cashout` frame, and what each API reply of a quote or an acceptance means.

const REASON_WORDS = {
  market_suspended: "suspended for a moment",
  cashout_in_play: "not offered in play",
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

// An acceptance's reply: {kind: "cashed_out", bet} or {kind: "refused", text}. A replayed
// acceptance is the same cashed-out bet.
export function interpretAccept({ status, body = {} }) {
  if (status === 200) return { kind: "cashed_out", bet: body };
  return { kind: "refused", text: refusalText(status, body) };
}

function refusalText(status, body) {
  if (status === 0) return "No answer from the server: press again (the same quote cashes out at most once).";
  if (body.code === "cashout_quote_expired") return "The offer expired: press again for a new one.";
  if (body.code === "market_suspended") return "A market of this bet is suspended: try again when it reopens.";
  if (body.code === "cashout_in_play") return "Cash-out is not offered while a match is in play.";
  if (body.code === "cashout_unavailable") return `No cash-out: ${REASON_WORDS[body.reason] || body.detail || "not offered now"}.`;
  return body.detail || `Cash-out refused (HTTP ${status}).`;
}

// The account's own safer-gambling refusals (docs/safer-gambling.md), in words for the slips,
// without the DOM (tested under Node). The server's `detail` names codes and ISO times; the
// bettor reads what was refused, until when, and where to change or see their limits.
import { formatCents, moneyToCents } from "./format.js";

export const SAFER_GAMBLING_PAGE = "/me/safer-gambling/";
export const SAFER_GAMBLING_LINK = { href: SAFER_GAMBLING_PAGE, text: "Your safer-gambling settings" };

// The periods of the limits (safergambling.models.LimitPeriod), as they read after "the last".
const PERIOD_WORDS = { day: "24 hours", week: "7 days", month: "30 days" };

function money(text) {
  const cents = moneyToCents(text ?? "");
  return cents === null ? null : formatCents(cents);
}

// "2026-03-09T12:00:00+00:00" -> "2026-03-09 12:00 UTC", as the pages write times.
export function utcMinute(iso) {
  const at = new Date(iso ?? "");
  return Number.isNaN(at.getTime()) ? null : `${at.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

// A refusal of the account's rules: {field, text, link} (field "stake" or "general"), or null
// for any other reply. `what` is the thing refused ("bet", "accumulator").
export function saferGamblingRefusal(body = {}, what = "bet") {
  const until = utcMinute(body.ends_at);
  const untilText = until ? ` until ${until}` : "";
  switch (body.code) {
    case "stake_limit": {
      const most = money(body.max_stake);
      const text = most
        ? `Your stake limit is ${most} per bet: lower the stake to ${most} or less.`
        : "The stake is above your stake limit: lower it.";
      return { field: "stake", text, link: SAFER_GAMBLING_LINK };
    }
    case "loss_limit_reached": {
      const period = PERIOD_WORDS[body.period] || "period";
      const limit = money(body.limit);
      const left = money(body.remaining);
      const of = limit ? ` of ${limit}` : "";
      const text = left && left !== "0.00"
        ? `This stake would pass your loss limit${of} over the last ${period}: you may stake up to ${left} now.`
        : `You have reached your loss limit${of} over the last ${period}: no more bets until earlier stakes leave that window.`;
      return { field: "stake", text, link: SAFER_GAMBLING_LINK };
    }
    case "on_break":
      return { field: "general", text: `You are taking a break${untilText}: no ${what} can be placed until it ends.`, link: SAFER_GAMBLING_LINK };
    case "self_excluded":
      return { field: "general", text: `You are self-excluded${untilText}: no ${what} can be placed until it ends.`, link: SAFER_GAMBLING_LINK };
    default:
      return null;
  }
}

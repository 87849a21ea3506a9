// Pure helpers shared by the pages (and tested under Node): prices, money, the slip's
// arithmetic, the direction of a price change and the kick-off countdown. No DOM here.

export const SELECTIONS = ["home", "draw", "away"];
export const SELECTION_SHORT = { home: "1", draw: "X", away: "2" };

// Statuses a bettor can bet on; every other one shows its badge and disables the prices.
export const BETTABLE = new Set(["open"]);
export const STATUS_LABELS = {
  scheduled: "Upcoming",
  open: "Open",
  suspended: "Suspended",
  closed: "Closed",
  settled: "Settled",
  void: "Void",
};

// Why a match is suspended, in words (the `suspended_reason` of frames and replies).
export const SUSPENSION_WORDS = { goal: "goal", red_card: "red card", penalty: "penalty", trader: "trader" };

export function formatOdds(odds) {
  const value = Number(odds);
  return Number.isFinite(value) && value > 0 ? value.toFixed(2) : "–";
}

// Money travels as strings with two decimals; cents are integers, so no float rounding.
export function formatCents(cents) {
  const sign = cents < 0 ? "-" : "";
  const abs = Math.abs(cents);
  const units = Math.floor(abs / 100).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${sign}${units}.${String(abs % 100).padStart(2, "0")}`;
}

export function moneyToCents(text) {
  const match = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec(String(text).trim());
  if (!match) return null;
  const cents = Number(match[2]) * 100 + Number((match[3] || "0").padEnd(2, "0"));
  return match[1] ? -cents : cents;
}

// The stake as typed: {cents, text} when it is an amount of money, else {error}. The server
// checks the bounds and the balance; this only says what it cannot understand.
export function parseStake(text) {
  const trimmed = String(text ?? "").trim().replace(",", ".");
  if (!trimmed) return { error: "Enter a stake." };
  const cents = moneyToCents(trimmed);
  if (cents === null) return { error: "Enter an amount such as 10 or 12.50 (at most two decimals)." };
  if (cents <= 0) return { error: "The stake must be more than zero." };
  return { cents, text: formatCents(cents).replaceAll(",", "") };
}

// What a winning bet pays back, stake included: stake × odds rounded down to the cent, as
// the settlement does. Odds are ladder prices with two decimals, so both factors are integers.
export function potentialReturnCents(stakeCents, odds) {
  const hundredths = Math.round(Number(odds) * 100);
  return Math.floor((stakeCents * hundredths) / 100);
}

// "up" when a price lengthened, "down" when it shortened, null when unchanged or unknown.
export function direction(before, after) {
  const a = Number(before);
  const b = Number(after);
  if (!Number.isFinite(a) || !Number.isFinite(b) || a === b) return null;
  return b > a ? "up" : "down";
}

export const ARROWS = { up: "▲", down: "▼" };

export function moveText(dir, before) {
  if (!dir) return "";
  return `${dir === "up" ? "up" : "down"} from ${formatOdds(before)}`;
}

// Time to kick-off in words, coarse far away and to the second in the last hour.
export function countdown(kickoffMs, nowMs) {
  const seconds = Math.floor((kickoffMs - nowMs) / 1000);
  if (!Number.isFinite(seconds)) return "";
  if (seconds <= 0) return "kicked off";
  const days = Math.floor(seconds / 86400);
  const hours = Math.floor((seconds % 86400) / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const secs = seconds % 60;
  if (days > 0) return `in ${days} d ${hours} h`;
  if (hours > 0) return `in ${hours} h ${String(minutes).padStart(2, "0")} min`;
  return `in ${String(minutes).padStart(2, "0")}:${String(secs).padStart(2, "0")}`;
}

// The connection indicator's words: what a fan needs to know, not the socket's state name.
export function connectionText({ status, reason, retryAtMs }, nowMs) {
  const wait = retryAtMs ? Math.max(0, Math.ceil((retryAtMs - nowMs) / 1000)) : null;
  if (status === "open") return "live";
  if (status === "offline") return `offline: ${reason || "disconnected"}${wait !== null ? ` (retry in ${wait} s)` : ""}`;
  if (status === "closed" && wait !== null) return `reconnecting in ${wait} s`;
  if (status === "closed") return "reconnecting";
  return "connecting…";
}

// A clock time to the millisecond, as the live logs show it: "14:03:07.042" (the local time zone).
export function clockTime(date = new Date()) {
  const two = (n) => String(n).padStart(2, "0");
  return `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}.${String(date.getMilliseconds()).padStart(3, "0")}`;
}

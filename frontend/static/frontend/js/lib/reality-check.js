// The reality check's timing and words, without a DOM (tested under Node): reminders fall on
// whole intervals since the session began, so a reload neither skips nor repeats one.

// Milliseconds from `now` to the next reminder, and which reminder (1, 2, ...) it is.
export function nextReminder(startedAtMs, intervalSeconds, nowMs) {
  const interval = Math.max(1, intervalSeconds) * 1000;
  const elapsed = Math.max(0, nowMs - startedAtMs);
  const index = Math.floor(elapsed / interval) + 1;
  return { index, delayMs: startedAtMs + index * interval - nowMs };
}

// "1 h 05 min", "45 min": the time spent, in words a reminder can show.
export function durationText(seconds) {
  const minutes = Math.floor(Math.max(0, seconds) / 60);
  const hours = Math.floor(minutes / 60);
  if (hours === 0) return `${minutes} min`;
  return `${hours} h ${String(minutes % 60).padStart(2, "0")} min`;
}

// "+12.50", "-25.00", "0.00": the net result with its sign.
export function netText(amount) {
  const value = Number(amount);
  if (!Number.isFinite(value) || value === 0) return "0.00";
  return `${value > 0 ? "+" : "-"}${Math.abs(value).toFixed(2)}`;
}

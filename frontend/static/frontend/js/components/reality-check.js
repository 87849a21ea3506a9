// The reality check: every `interval_seconds` of the session (the account's minutes), a reminder of the time spent and
// the net result on bets, with a link to the limits. The session's start and result come from
// GET /api/me/reality-check/ (the session cookie), read again at each reminder.
import { apiFetch } from "../lib/api.js";
import { durationText, netText, nextReminder } from "../lib/reality-check.js";

const dialog = document.getElementById("reality-check");
const ACKNOWLEDGED = "oddstream.reality-check.acknowledged"; // the last reminder dismissed

async function state() {
  const reply = await apiFetch("GET", "/api/me/reality-check/");
  return reply.ok ? reply.body : null;
}

function show(current) {
  dialog.querySelector('[data-field="elapsed"]').textContent = durationText(current.elapsed_seconds);
  dialog.querySelector('[data-field="net"]').textContent = netText(current.net_result);
  dialog.hidden = false;
  dialog.querySelector('[data-action="continue"]').focus();
}

async function schedule() {
  const current = await state().catch(() => null);
  if (!current) return; // signed out, or the server is away: no reminder to time
  const started = Date.parse(current.session_started_at);
  const { index, delayMs } = nextReminder(started, current.interval_seconds, Date.now());
  const due = index - 1; // a reminder that fell due while no page was open is shown now
  if (due > Number(sessionStorage.getItem(ACKNOWLEDGED) || 0)) {
    dialog.dataset.index = String(due);
    show(current);
    return;
  }
  setTimeout(async () => {
    const fresh = await state().catch(() => null);
    if (!fresh) return;
    dialog.dataset.index = String(index);
    show(fresh);
  }, delayMs);
}

if (dialog) {
  dialog.querySelector('[data-action="continue"]').addEventListener("click", () => {
    sessionStorage.setItem(ACKNOWLEDGED, dialog.dataset.index || "0");
    dialog.hidden = true;
    schedule();
  });
  schedule();
}

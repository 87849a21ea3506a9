// The bet slip (DOM): the price the fan clicked, the stake and potential return, what to do
// if the price moves, and the answer in words next to the field it concerns. The logic it
// relies on (keys, arithmetic, replies) lives in ../lib and is tested under Node.
import { ARROWS, BETTABLE, STATUS_LABELS, direction, formatCents, formatOdds, parseStake, potentialReturnCents, selectionLabel } from "../lib/format.js";
import { BetIntent, betBody, interpretReply, isAmbiguous, oddsChangedText } from "../lib/slip.js";
import { apiFetch } from "../lib/api.js";

const $ = (id) => document.getElementById(id);

export class BetSlip {
  constructor({ stream }) {
    this.root = $("bet-slip");
    this.form = $("slip-form"); // absent when signed out: the slip then offers sign-in
    this.intent = new BetIntent();
    this.pick = null; // {match, selection, odds, teams, status}
    this.inFlight = false;
    this.trigger = null;
    $("slip-close").addEventListener("click", () => this.close());
    this.root.addEventListener("keydown", (event) => { if (event.key === "Escape") this.close(); });
    stream.addEventListener("odds", (event) => this.onLive(event.detail.state));
    stream.addEventListener("match", (event) => this.onLiveStatus(event.detail.match, event.detail.status));
    if (!this.form) return;
    this.form.addEventListener("submit", (event) => { event.preventDefault(); this.submit(); });
    $("slip-stake").addEventListener("input", () => { this.showField("stake", ""); this.showReturn(); });
    $("slip-accept").addEventListener("change", () => this.showField("accept", ""));
    $("slip-prompt-accept").addEventListener("click", () => this.acceptNewPrice());
    $("slip-prompt-cancel").addEventListener("click", () => this.hidePrompt(true));
  }

  // A price button was pressed: that price, as shown, is the quote.
  choose({ match, selection, odds, teams, status, trigger }) {
    this.pick = { match, selection, odds, teams, status };
    this.trigger = trigger || null;
    this.root.hidden = false;
    $("slip-match").textContent = `${teams.home_team} v ${teams.away_team}`;
    if (!this.form) return;
    $("slip-selection").textContent = selectionLabel(selection, teams);
    $("slip-odds").textContent = formatOdds(odds);
    $("slip-live").textContent = "";
    $("slip-result").textContent = "";
    for (const field of ["stake", "odds", "accept", "general"]) this.showField(field, "");
    this.hidePrompt(false);
    this.showReturn();
    this.setStatusNote(status);
    $("slip-stake").focus();
    $("slip-stake").select();
  }

  close() {
    this.root.hidden = true;
    this.pick = null;
    this.trigger?.focus(); // back where the fan was
  }

  onLive(state) {
    if (!this.pick || state.match !== this.pick.match || !this.form) return;
    const now = state.odds[this.pick.selection];
    const dir = direction(this.pick.odds, now);
    $("slip-live").textContent = dir ? `now ${formatOdds(now)} ${ARROWS[dir]}` : "";
    if (state.status) this.onLiveStatus(state.match, state.status);
  }

  onLiveStatus(match, status) {
    if (!this.pick || match !== this.pick.match) return;
    this.pick.status = status;
    this.setStatusNote(status);
  }

  setStatusNote(status) {
    if (!this.form) return;
    const open = BETTABLE.has(status);
    $("slip-submit").disabled = !open || this.inFlight;
    this.showField("general", open ? "" : `This match is ${(STATUS_LABELS[status] || status).toLowerCase()}: it takes no bets now.`);
  }

  showReturn() {
    const stake = parseStake($("slip-stake").value);
    $("slip-return").textContent = stake.error || !this.pick ? "–" : formatCents(potentialReturnCents(stake.cents, this.pick.odds));
  }

  showField(field, text) {
    const box = $(`slip-${field === "general" ? "error" : `${field}-error`}`);
    box.textContent = text;
    box.hidden = !text;
    const input = { stake: $("slip-stake"), accept: $("slip-accept") }[field];
    if (input) input.toggleAttribute("aria-invalid", Boolean(text));
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
    button.disabled = busy || !BETTABLE.has(this.pick?.status);
    button.setAttribute("aria-busy", String(busy));
    button.textContent = busy ? "Placing…" : "Place bet";
  }

  async submit() {
    if (this.inFlight || !this.pick) return; // one request at a time, whatever the clicks
    for (const field of ["stake", "odds", "accept", "general"]) this.showField(field, "");
    $("slip-result").textContent = "";
    const stake = parseStake($("slip-stake").value);
    if (stake.error) {
      this.showField("stake", stake.error);
      $("slip-stake").focus();
      return;
    }
    const pick = this.pick;
    const body = betBody({ match: pick.match, selection: pick.selection, stake: stake.text, odds: pick.odds, accept: $("slip-accept").value });
    const key = this.intent.keyFor(body);
    this.setBusy(true);
    // No answer is status 0: the key stays, so pressing again can only replay this bet.
    const { status, body: reply, headers } = await apiFetch("POST", "/api/bets/", { body, headers: { "Idempotency-Key": key } });
    this.setBusy(false);
    const retryAfter = headers?.get("Retry-After") ?? null;
    if (!isAmbiguous(status)) this.intent.answered();
    this.showReply(interpretReply({ status, body: reply || {}, retryAfter, selection: pick.selection, quoted: pick.odds }), pick);
  }

  showReply(outcome, pick) {
    if (outcome.kind === "accepted") {
      const bet = outcome.bet;
      const back = potentialReturnCents(Math.round(Number(bet.stake) * 100), bet.odds);
      $("slip-result").textContent =
        `Bet #${bet.id} placed: ${bet.stake} on ${selectionLabel(bet.selection, pick.teams)} at ${formatOdds(bet.odds)}, returns ${formatCents(back)} if it wins.`;
      this.root.dispatchEvent(new CustomEvent("placed", { detail: bet }));
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
    for (const [field, text] of Object.entries(outcome.fields)) this.showField(field, text);
    if (outcome.fields.stake) $("slip-stake").focus();
  }
}

// Wires every price button under `container` (one listener, so cards added later work too).
export function bindPriceButtons(container, slip) {
  container.addEventListener("click", (event) => {
    const button = event.target.closest(".price-button");
    if (!button || button.disabled) return;
    const root = button.closest("[data-match-id]");
    const match = Number(root.dataset.matchId);
    slip.choose({
      match,
      selection: button.dataset.selection,
      odds: Number(button.querySelector(".price").textContent), // the price the fan saw is the quote
      teams: {
        home_team: root.querySelector('[data-role="name-home"]').textContent,
        away_team: root.querySelector('[data-role="name-away"]').textContent,
      },
      status: root.dataset.status,
      trigger: button,
    });
  });
}

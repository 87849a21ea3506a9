// The accumulator slip (DOM): the fan picks a price as for a single, then adds it here; the
// slip keeps one pick per match, shows the combined odds and the return, and places the
// accumulator with one Idempotency-Key per intent. Logic in ../lib/accumulator.js (Node tests).
import { apiFetch } from "../lib/api.js";
import {
  accumulatorBody, accumulatorProblem, accumulatorReturnCents, combinedOddsText, pickToggle,
} from "../lib/accumulator.js";
import { formatCents, formatOdds, parseStake } from "../lib/format.js";
import { saferGamblingRefusal } from "../lib/safer-gambling.js";
import { BetIntent, isAmbiguous } from "../lib/slip.js";
import { showWithLink } from "./bet-slip.js";

const $ = (id) => document.getElementById(id);

export class AccumulatorSlip {
  constructor(container) {
    this.root = $("acca-slip");
    if (!this.root) return; // signed out
    this.picks = [];
    this.last = null;
    this.intent = new BetIntent();
    container.addEventListener("click", (event) => this.onPrice(event));
    $("acca-add").addEventListener("click", () => this.toggle(this.last));
    $("acca-legs").addEventListener("click", (event) => {
      const index = event.target.closest("[data-remove]")?.dataset.remove;
      if (index !== undefined) this.toggle(this.picks[Number(index)]);
    });
    $("acca-stake").addEventListener("input", () => this.render());
    $("acca-form").addEventListener("submit", (event) => { event.preventDefault(); this.submit(); });
  }

  // A price button was pressed (the single slip opens too): it becomes the pick to add.
  onPrice(event) {
    const button = event.target.closest(".price-button");
    if (!button || button.disabled) return;
    const root = button.closest("[data-match-id]");
    const names = (side) => root.querySelector(`[data-role="name-${side}"]`)?.textContent ?? side;
    this.last = {
      match: Number(root.dataset.matchId),
      market: button.dataset.market || "1x2",
      selection: button.dataset.selection,
      odds: Number(button.querySelector(".price").textContent),
      label: `${names("home")} v ${names("away")}: ${button.querySelector(".label")?.textContent.trim() ?? button.dataset.selection}`,
    };
    $("acca-last").textContent = `Last pick: ${this.last.label} @ ${formatOdds(this.last.odds)}`;
    $("acca-add").disabled = false;
  }

  toggle(pick) {
    if (!pick) return;
    const { picks, note } = pickToggle(this.picks, pick);
    this.picks = picks;
    $("acca-note").textContent = note;
    $("acca-note").hidden = !note;
    this.render();
  }

  render() {
    const legs = $("acca-legs");
    legs.replaceChildren(
      ...this.picks.map((pick, index) => {
        const item = document.createElement("li");
        item.textContent = `${pick.label} @ ${formatOdds(pick.odds)} `;
        const remove = document.createElement("button");
        remove.type = "button";
        remove.className = "link-button";
        remove.dataset.remove = index;
        remove.textContent = "Remove";
        item.append(remove);
        return item;
      }),
    );
    $("acca-count").textContent = `(${this.picks.length})`;
    const problem = accumulatorProblem(this.picks);
    $("acca-odds").textContent = this.picks.length ? combinedOddsText(this.picks) : "–";
    const stake = parseStake($("acca-stake").value);
    $("acca-return").textContent = problem || stake.error ? "–" : formatCents(accumulatorReturnCents(stake.cents, this.picks));
    $("acca-submit").disabled = Boolean(problem) || this.inFlight;
  }

  showError(text, link = null) {
    showWithLink($("acca-error"), text, link);
  }

  async submit() {
    if (this.inFlight) return;
    this.showError("");
    const stake = parseStake($("acca-stake").value);
    if (stake.error) return this.showError(stake.error);
    const body = accumulatorBody({ picks: this.picks, stake: stake.text, accept: $("acca-accept").value });
    const key = this.intent.keyFor(body);
    this.inFlight = true;
    this.render();
    const { status, body: reply } = await apiFetch("POST", "/api/bets/", { body, headers: { "Idempotency-Key": key } });
    this.inFlight = false;
    if (!isAmbiguous(status)) this.intent.answered();
    let ruled = null; // the account's own safer-gambling refusal, if it is one
    if (status === 201) {
      $("acca-result").textContent = `Accumulator #${reply.id} placed: ${reply.stake} at ${formatOdds(reply.odds)}.`;
      this.picks = [];
    } else if (status === 409 && reply?.code === "odds_changed" && reply.leg !== undefined) {
      const pick = this.picks[reply.leg];
      const now = reply.odds?.[pick.selection];
      if (now) pick.odds = now;
      this.showError(`The price of ${pick.label} moved to ${formatOdds(now)}: check the combined odds and press again.`);
    } else if ((status === 403 || status === 409) && (ruled = saferGamblingRefusal(reply || {}, "accumulator"))) {
      this.showError(ruled.text, ruled.link);
    } else if (status === 0 || status >= 500) {
      this.showError("No answer from the server: press again, it is placed at most once.");
    } else {
      const errors = reply?.errors ? Object.values(reply.errors).flat().join(" ") : "";
      const leg = reply?.leg !== undefined ? ` (selection ${reply.leg + 1})` : "";
      this.showError(`${errors || reply?.detail || `Refused (HTTP ${status}).`}${leg}`);
    }
    this.render();
  }
}

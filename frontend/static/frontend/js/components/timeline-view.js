// The match page's event timeline (DOM): goals with the score they made, cards, penalties and
// the periods, newest first, extended by each `match` frame and read again from the API when a
// frame was missed (lib/timeline.js decides when).
import { Timeline, minuteText } from "../lib/timeline.js";
import { apiFetch } from "../lib/api.js";

export class TimelineView {
  constructor(list, { matchId, teams, events }) {
    this.list = list;
    this.empty = document.getElementById("timeline-empty");
    this.matchId = matchId;
    this.teams = teams;
    this.timeline = new Timeline(events);
    this.reloading = null;
    this.render();
  }

  merge(events, live) {
    if (this.timeline.merge(events || [], live)) this.reload();
    this.render();
  }

  // An `odds` frame's live state: a count of events folded above ours means a missed frame.
  check(live) {
    if (this.timeline.merge([], live)) this.reload();
  }

  reload() {
    if (this.reloading) return;
    this.reloading = apiFetch("GET", `/api/matches/${this.matchId}/events/`).then((reply) => {
      this.reloading = null;
      if (!reply.ok) return;
      this.timeline.load(reply.body.events || []);
      this.render();
    });
  }

  render() {
    const entries = this.timeline.entries(this.teams).reverse();
    this.empty.hidden = entries.length > 0;
    this.list.replaceChildren(...entries.map((entry) => {
      const item = document.createElement("li");
      item.className = `timeline__event timeline__event--${entry.kind}`;
      item.dataset.kind = entry.kind;
      item.dataset.eventId = entry.id;
      if (entry.team) item.dataset.team = entry.team;
      if (entry.disallowed) item.dataset.disallowed = "true";
      const minute = document.createElement("span");
      minute.className = "timeline__minute";
      minute.textContent = minuteText(entry.minute);
      const text = document.createElement("span");
      text.className = "timeline__text";
      text.textContent = entry.text;
      item.append(minute, text);
      if (entry.score) {
        const score = document.createElement("strong");
        score.className = "timeline__score";
        score.textContent = entry.score;
        item.append(score);
      }
      return item;
    }));
  }
}

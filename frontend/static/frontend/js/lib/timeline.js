// A match's event timeline, without the DOM (tested under Node): the page's first list, then the
// events each `match` frame folded, merged by id in sequence order. Frames can be dropped (a
// newer `match` frame replaces an unsent one) and a late event can change what later ones did,
// so the timeline says when it must be read again from GET /api/matches/<id>/events/.

const TEAM_KINDS = new Set(["goal", "red_card", "penalty"]);

export class Timeline {
  constructor(events = []) {
    this.byId = new Map();
    this.load(events);
  }

  // The whole log (the page's, or the API's): replaces what was known.
  load(events) {
    this.byId = new Map(events.map((event) => [event.id, event]));
  }

  // A frame's events and live state: true when the list must be reloaded (an event was missed,
  // or one arrived out of sequence and may change what later ones did).
  merge(events = [], live = null) {
    const highest = Math.max(0, ...[...this.byId.values()].map((event) => event.sequence));
    let late = false;
    for (const event of events) {
      if (!this.byId.has(event.id) && event.sequence < highest) late = true;
      this.byId.set(event.id, event);
    }
    const missed = live && Number.isInteger(live.seq) && live.seq > this.byId.size;
    return late || Boolean(missed);
  }

  // The events that count, oldest first, in words: [{id, kind, minute, text, team, score, disallowed}].
  entries({ home_team: home = "Home", away_team: away = "Away" } = {}) {
    const teams = { home, away };
    const events = [...this.byId.values()].sort((a, b) => a.sequence - b.sequence);
    const cancelled = new Set(events.filter((e) => e.kind === "goal_disallowed" && e.applied !== false).map((e) => e.cancels));
    const score = { home: 0, away: 0 };
    const out = [];
    for (const event of events) {
      if (event.applied === false) continue;
      const team = TEAM_KINDS.has(event.kind) ? teams[event.team] || event.team : "";
      const entry = { id: event.id, kind: event.kind, minute: event.minute ?? null, team: event.team || null, score: null, disallowed: false };
      if (event.kind === "goal") {
        entry.disallowed = cancelled.has(event.id);
        if (!entry.disallowed) score[event.team] += 1;
        entry.score = `${score.home}–${score.away}`;
        entry.text = entry.disallowed ? `Goal, ${team} (disallowed)` : `Goal, ${team}`;
      } else if (event.kind === "goal_disallowed") {
        const goal = this.byId.get(event.cancels);
        entry.text = `Goal disallowed${goal ? `, ${teams[goal.team] || goal.team}` : ""}`;
      } else if (event.kind === "red_card") {
        entry.text = `Red card, ${team}`;
      } else if (event.kind === "penalty") {
        entry.text = `Penalty to ${team}`;
      } else if (event.kind === "result_correction" && event.score) {
        entry.text = `Result corrected: ${event.score.home}–${event.score.away}`;
      } else {
        entry.text = { kick_off: "Kick-off", half_time: "Half-time", second_half: "Second half", full_time: "Full time" }[event.kind] || event.kind;
      }
      out.push(entry);
    }
    return out;
  }
}

export function minuteText(minute) {
  return minute === null || minute === undefined ? "" : `${minute}'`;
}

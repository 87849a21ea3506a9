// The live blog demo's log (DOM): newest first, each line with its time and kind (and, for an
// event, when the server sent it), at most `limit` lines.
import { clockTime } from "../lib/format.js";

export class EventLog {
  constructor(list, { limit = 200 } = {}) {
    this.list = list;
    this.limit = limit;
  }

  add(kind, text, serverTs) {
    const item = document.createElement("li");
    item.className = `log__entry log__entry--${kind}`;
    item.dataset.kind = kind;
    const time = document.createElement("time");
    time.dateTime = new Date().toISOString();
    time.textContent = clockTime();
    const label = document.createElement("span");
    label.className = "log__kind";
    label.textContent = kind;
    const body = document.createElement("span");
    body.textContent = text;
    item.append(time, " ", label, " ", body);
    if (serverTs) {
      const sent = document.createElement("span");
      sent.className = "muted";
      sent.textContent = ` (sent ${clockTime(new Date(serverTs))})`;
      item.append(sent);
    }
    this.list.prepend(item);
    while (this.list.children.length > this.limit) this.list.lastElementChild.remove();
  }

  clear() {
    this.list.replaceChildren();
  }
}

// The connection indicator in the top bar of every page (DOM): live, reconnecting in N s, or
// offline with the reason, kept current by a stream's events. Its colour follows `data-state`
// (oddstream.css); its words come from connectionText (lib/format.js, tested under Node).
import { connectionText } from "../lib/format.js";

export function showConnection(stream, element = document.getElementById("connection")) {
  if (!element) return;
  let shown = { status: stream.status };
  let ticker = null;
  const render = () => {
    element.textContent = connectionText(shown, Date.now());
    element.dataset.state = shown.status;
    element.title = shown.reason || "Live connection";
  };
  const tick = (on) => {
    clearInterval(ticker);
    ticker = on ? setInterval(render, 1000) : null;
  };
  stream.addEventListener("status", (event) => {
    const { status, reason, retryInMs } = event.detail;
    shown = { status, reason, retryAtMs: retryInMs ? Date.now() + retryInMs : null };
    tick(Boolean(retryInMs));
    render();
  });
  stream.addEventListener("reconnecting", (event) => {
    if (shown.status === "offline") return; // a cool-down already shows its own wait
    shown = { status: "closed", retryAtMs: Date.now() + event.detail.delay };
    tick(true);
    render();
  });
}

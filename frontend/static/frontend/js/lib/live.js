// What every page does with its socket: the connection indicator in the top bar (live,
// reconnecting in N s, or offline with the reason) and the balance in the nav, kept current
// by the bettor's private `wallet` events.
import { OddsStream, wsUrl } from "../oddstream-client.js";
import { connectionText } from "./format.js";

export function showConnection(stream, element = document.getElementById("connection")) {
  if (!element) return;
  let shown = { status: stream.status };
  let ticker = null;
  const render = () => {
    element.textContent = connectionText(shown, Date.now());
    element.dataset.state = shown.status;
    element.title = shown.reason || "Live prices";
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

export function followWallet(stream) {
  stream.addEventListener("wallet", (event) => {
    const balance = document.getElementById("nav-balance");
    if (!balance) return;
    balance.textContent = event.detail.balance;
    balance.classList.remove("changed");
    void balance.offsetWidth; // restart the highlight
    balance.classList.add("changed");
  });
}

// A page's socket: session-authenticated (the cookie), with the indicator and the balance.
export function pageStream(path) {
  const stream = new OddsStream(wsUrl(path));
  showConnection(stream);
  followWallet(stream);
  window.oddstream = stream; // for the console and the browser tests
  return stream;
}

export function csrfToken() {
  const match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

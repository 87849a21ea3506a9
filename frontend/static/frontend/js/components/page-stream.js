// What every betting page does with its socket: the connection indicator in the top bar and
// the balance in the nav, kept current by the bettor's private `wallet` events.
import { OddsStream, wsUrl } from "../oddstream-client.js";
import { showConnection } from "./connection-indicator.js";

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

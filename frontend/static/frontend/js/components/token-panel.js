// The live blog demo's token panel (DOM): the tokens a TokenSession (lib/tokens.js) holds, when
// each expires, a countdown to the next refresh, and who is signed in.
import { clockTime } from "../lib/format.js";
import { jwtClaims, refreshDelayMs } from "../lib/tokens.js";

const $ = (id) => document.getElementById(id);

function shortToken(token) {
  return `${token.slice(0, 12)}…${token.slice(-6)}`;
}

export class TokenPanel {
  constructor(session) {
    this.session = session;
    this.user = null;
    setInterval(() => this.renderCountdown(), 1000);
  }

  render(user = this.user) {
    this.user = user;
    const { access, refresh } = this.session;
    const accessBox = $("access-token");
    accessBox.dataset.held = String(Boolean(access));
    const exp = this.session.claims?.exp;
    accessBox.textContent = access ? `held: ${shortToken(access)}, expires at ${exp ? clockTime(new Date(exp * 1000)) : "?"}` : "none";
    const refreshBox = $("refresh-token");
    refreshBox.dataset.held = String(Boolean(refresh));
    const refreshExp = refresh ? jwtClaims(refresh)?.exp : null;
    refreshBox.textContent = refresh
      ? `held: ${shortToken(refresh)}, expires at ${refreshExp ? new Date(refreshExp * 1000).toLocaleString() : "?"}`
      : "none";
    $("refresh-now").disabled = !refresh;
    $("signout").disabled = !access; // a visitor signed in by session signs out from the top bar
    $("signed-in-as").textContent = user ? `${user.email || user.username || "user"} (#${user.id})` : "nobody";
    this.renderCountdown();
  }

  renderCountdown() {
    const exp = this.session.claims?.exp;
    $("next-refresh").textContent = exp
      ? `in ${Math.round(refreshDelayMs(exp) / 1000)}s (the access token lives until ${clockTime(new Date(exp * 1000))})`
      : "–";
  }
}

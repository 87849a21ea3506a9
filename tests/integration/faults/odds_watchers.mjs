// COUNT sockets of the project's own browser client (OddsStream) against a real server, in
// node: `node odds_watchers.mjs URL COUNT`. Prints `ready` once every socket has had its
// first snapshot; then each `report` line on stdin prints one JSON line: how many sockets are
// open, and per match the lowest and highest version any socket holds (the lowest is the one
// that matters: every socket is on the latest version when it equals the database's).
import { createInterface } from "node:readline";
import { OddsStream } from "../../../frontend/static/frontend/js/oddstream-client.js";

const [url, countArg, batchArg] = process.argv.slice(2);
const count = Number(countArg);
// Sockets opened together (default: all at once). A thousand handshakes at once on a busy
// server outlast the client's connect timeout and are retried over and over: open them in
// batches, each once the previous one has its snapshots.
const batch = Number(batchArg || count);
// Faster than a page's defaults, so a test's recovery is measured in seconds; the same code.
const options = { backoff: { initialMs: 200, maxMs: 2000 }, heartbeatTimeoutMs: 6000 };

const streams = [];
const counters = { reconnects: 0, gaps: 0, snapshots: 0, fatal: 0 };
let ready = 0;
function open() {
  const stream = new OddsStream(url, options);
  let first = true;
  stream.addEventListener("snapshot", () => {
    counters.snapshots += 1;
    if (first) {
      first = false;
      ready += 1;
      if (ready === count) console.log("ready");
      else if (ready === streams.length) openBatch();
    }
  });
  stream.addEventListener("reconnecting", () => { counters.reconnects += 1; });
  stream.addEventListener("gap", () => { counters.gaps += 1; });
  stream.addEventListener("fatal", () => { counters.fatal += 1; });
  streams.push(stream.start());
}
function openBatch() {
  const end = Math.min(count, streams.length + batch);
  while (streams.length < end) open();
}
openBatch();

function report() {
  const versions = {};
  for (const stream of streams) {
    for (const [match, version] of stream.versions) {
      const seen = versions[match] || { min: version, max: version, sockets: 0 };
      seen.min = Math.min(seen.min, version);
      seen.max = Math.max(seen.max, version);
      seen.sockets += 1;
      versions[match] = seen;
    }
  }
  const open = streams.filter((s) => s.status === "open").length;
  return { sockets: streams.length, open, versions, ...counters };
}

createInterface({ input: process.stdin }).on("line", (line) => {
  if (line.trim() === "report") console.log(JSON.stringify(report()));
  if (line.trim() === "quit") {
    for (const stream of streams) stream.stop();
    process.exit(0);
  }
});

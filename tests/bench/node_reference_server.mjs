// The reference for the fan-out benchmark: the stock Node socket.io server
// doing clubvoiced's streaming work, an `audio` event ({seq, t} + an 80-byte
// Opus-sized Buffer) to every client in "/" every 20 ms, on a timer that
// keeps to absolute deadlines (no drift). Not a test; run by
// tests/bench/fanout_bench.py:  node node_reference_server.mjs PORT
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import path from "node:path";

// socket.io is installed under tests/node, not next to this script.
const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "..", "node", "package.json"));
const { Server } = require("socket.io");

const port = Number(process.argv[2] || 5000);
const http = createServer();
const io = new Server(http, { serveClient: false, perMessageDeflate: false });

const payload = Buffer.alloc(80, 0x55);
const periodMs = 20;
let seq = 0;
let next = performance.now() + periodMs;

function tick() {
  io.emit("audio", { seq: seq++, t: Date.now() }, payload);
  next += periodMs;
  const now = performance.now();
  // Behind by more than a frame (an overloaded loop): skip ahead, as a
  // sound card's frames would have been lost, rather than burst.
  while (next < now - periodMs) {
    next += periodMs;
    seq++;
  }
  setTimeout(tick, Math.max(0, next - now));
}

http.listen(port, "127.0.0.1", () => {
  process.stdout.write(`listening ${port}\n`);
  setTimeout(tick, periodMs);
});

// The room's connection and sound path in a dedicated Worker, so that
// nothing the page's main thread does (layout, garbage collection, a busy
// script) delays a frame: the Socket.IO connection (to one of the room's
// servers, the next one after each failure), the arrival jitter, the
// Opus decoder that feeds the playout worklet, and the microphone's encoder.
// The page's SDK (sdk/room_link.js) sends {type, ...} messages, some with an
// id that an {type: 'answer', id, value | error} message answers; the
// worker reports socket events, its transport, the server it moves to and
// (without shared memory) its figures.
import { io } from 'socket.io-client';
import { StatsBlock, WORKER_FIELDS, indexOf } from '../shared/stats_block.js';
import { Listener } from './listener.js';
import { Talker } from './talker.js';

const AT = indexOf(WORKER_FIELDS);
const FORWARDED = ['config', 'clients', 'talk_state', 'levels'];

let socket = null;
let servers = [];
let serverAt = 0;
let stats = null;
let listener = null;
let talker = null;
let micSeq = 0;

const post = (message) => self.postMessage(message);
const event = (name, ...args) => post({ type: 'event', name, args });
const fail = (err) => post({ type: 'error', message: String(err?.message ?? err) });

// Handlers that return a value (or a promise) are answered by id.
const handlers = {
  connect({ urls, path, auth, stats: buffer }) {
    stats = new StatsBlock(WORKER_FIELDS, buffer ?? new ArrayBuffer(8 + 8 * WORKER_FIELDS.length));
    listener = new Listener(stats.values, AT, fail);
    servers = urls;
    socket = io(servers[0], {
      path,
      auth,
      // Long-polling first, then the upgrade to WebSocket; once a WebSocket
      // has worked, reconnections go straight to one.
      rememberUpgrade: true,
      reconnectionDelay: 500,
      reconnectionDelayMax: 5000,
      randomizationFactor: 0.5,
      timeout: 8000,
    });
    wire(socket);
    if (!stats.shared) setInterval(() => post({ type: 'stats', values: stats.values }), 100);
  },

  // The name shown to others travels in the CONNECT auth: reconnect with it.
  auth({ auth }) {
    socket.auth = auth;
    if (socket.connected) {
      socket.disconnect();
      socket.connect();
    }
  },

  emit({ event: name, args }) {
    if (socket.connected) socket.emit(name, ...args);
  },

  ask({ event: name, args, timeoutMs }) {
    return socket.timeout(timeoutMs).emitWithAck(name, ...args);
  },

  // Decode for the playout worklet; answers with the decoder's kind.
  listen(options) {
    return listener.start(options);
  },

  unlisten() {
    listener.stop();
  },

  async mic(options) {
    talker?.close();
    const mine = new Talker(stats.values, AT, sendMic, post);
    talker = mine;
    try {
      await mine.start(options);
    } catch (err) {
      if (talker === mine) talker = null;
      throw err;
    }
    return true;
  },

  sending({ on }) {
    if (talker) talker.sending = on && socket.connected;
  },

  unmic() {
    talker?.close();
    talker = null;
  },

  close() {
    talker?.close();
    listener?.stop();
    socket?.disconnect();
    self.close();
  },
};

// volatile: while the connection is down packets are dropped, not queued.
function sendMic(packet) {
  socket.volatile.emit('mic', { seq: micSeq++ }, packet);
}

// Moves to the next server of the list (round robin) before a new attempt:
// an edge that died, cannot be reached or is full (503) is left for the next
// one, after the Manager's own back-off. A refusal by the access rules (a bad
// token) destroys the socket instead and never gets here, so it is not
// carried round every edge. Each attempt opens a new Engine.IO socket from
// the Manager's uri (socket.io-client 4.x, pinned in web/package.json).
function nextServer() {
  if (servers.length < 2) return;
  serverAt = (serverAt + 1) % servers.length;
  socket.io.uri = servers[serverAt];
  post({ type: 'url', url: servers[serverAt] });
}

function transport() {
  post({ type: 'transport', name: socket.io.engine?.transport?.name ?? null });
}

function wire(s) {
  s.on('connect', () => {
    listener.restart();
    event('connect', s.id);
    transport();
  });
  s.on('disconnect', (reason) => {
    if (talker) talker.sending = false;
    event('disconnect', reason);
    // A server that drops us on purpose is not retried by the client itself.
    if (reason === 'io server disconnect') {
      setTimeout(() => {
        nextServer();
        s.connect();
      }, 1000);
    }
  });
  s.on('connect_error', (err) => event('connect_error', err.message, s.active));
  for (const name of FORWARDED) s.on(name, (...args) => event(name, ...args));
  s.on('audio', (meta, data) => listener.receive(meta, data));
  s.io.on('reconnect_attempt', (n) => {
    nextServer();
    event('reconnect_attempt', n);
  });
  s.io.on('open', () => {
    transport();
    s.io.engine.on('upgrade', transport);
  });
}

self.onmessage = async ({ data }) => {
  const handler = handlers[data.type];
  if (!handler) return;
  try {
    const value = await handler(data);
    if (data.id !== undefined) post({ type: 'answer', id: data.id, value });
  } catch (err) {
    if (data.id !== undefined) post({ type: 'answer', id: data.id, error: String(err?.message ?? err) });
    else fail(err);
  }
};

// Stock socket.io-client 4.x against clubvoiced and the conformance server:
// every transport, the upgrade, acks, binary attachments, namespaces, auth.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { io } from 'socket.io-client';
import { startDaemon, startConformanceServer, once } from './harness.mjs';

const TRANSPORTS = {
  websocket: { transports: ['websocket'] },
  polling: { transports: ['polling'], upgrade: false },
  upgrade: { transports: ['polling', 'websocket'] },
};

let daemon;
let conformance;
before(async () => {
  daemon = await startDaemon();
  conformance = await startConformanceServer();
});
after(async () => {
  assert.equal(await daemon.child.stop(), 0, daemon.child.stderrText);
  assert.equal(await conformance.child.stop(), 0, conformance.child.stderrText);
});

function connect(url, options) {
  return io(url, { forceNew: true, reconnection: false, timeout: 5000, ...options });
}

for (const [name, options] of Object.entries(TRANSPORTS)) {
  test(`clubvoiced over ${name}: config on connect and get_config ack`, async () => {
    const socket = connect(daemon.url, options);
    try {
      const [config] = await once(socket, 'config');
      assert.equal(config.codec, 'opus');
      assert.equal(config.sampleRate, 48000);
      assert.equal(config.mode, 'full');
      assert.equal(config.canTalk, true);
      assert.ok(config.clients >= 1);
      if (name === 'upgrade') {
        const engine = socket.io.engine;
        if (engine.transport.name !== 'websocket') await once(engine, 'upgrade');
        assert.equal(engine.transport.name, 'websocket');
      }
      const reply = await socket.timeout(3000).emitWithAck('get_config');
      assert.equal(reply.codec, 'opus');
      assert.equal(reply.version, config.version);
      assert.equal(socket.io.engine.transport.name, name === 'polling' ? 'polling' : 'websocket');
    } finally {
      socket.disconnect();
    }
  });
}

test('clients count reaches every listener', async () => {
  const a = connect(daemon.url, TRANSPORTS.websocket);
  await once(a, 'config');
  const both = new Promise((resolve) => {
    a.on('clients', ({ count }) => { if (count === 2) resolve(count); });
  });
  const b = connect(daemon.url, TRANSPORTS.polling);
  try {
    const [{ count }] = await Promise.all([
      Promise.race([both.then((c) => ({ count: c })),
        new Promise((_, reject) => setTimeout(() => reject(new Error('no count of 2')), 3000))]),
      once(b, 'config'),
    ]);
    assert.equal(count, 2);
  } finally {
    a.disconnect();
    b.disconnect();
  }
});

for (const [name, options] of Object.entries(TRANSPORTS)) {
  test(`conformance server over ${name}: auth, events, acks, binary`, async () => {
    const socket = connect(conformance.url, { ...options, auth: { token: 'abc', n: 1 } });
    try {
      const [auth] = await once(socket, 'auth');
      assert.deepEqual(auth, { token: 'abc', n: 1 });

      const bytes = Buffer.from([0, 1, 2, 253, 254, 255]);
      const back = once(socket, 'message-back');
      socket.emit('message', 1, 'two', { three: bytes, list: [bytes, 4] });
      const args = await back;
      assert.equal(args[0], 1);
      assert.equal(args[1], 'two');
      assert.deepEqual(Buffer.from(args[2].three), bytes);
      assert.deepEqual(Buffer.from(args[2].list[0]), bytes);
      assert.equal(args[2].list[1], 4);

      const acked = await socket.timeout(3000).emitWithAck('message-with-ack', bytes, 'x');
      assert.deepEqual(Buffer.from(acked), bytes);

      // Many small events at once: polling batches them in one payload.
      const received = [];
      const all = new Promise((resolve) => {
        socket.on('message-back', (n) => { received.push(n); if (received.length === 50) resolve(); });
      });
      for (let i = 0; i < 50; i++) socket.emit('message', i);
      await all;
      assert.deepEqual(received, [...Array(50).keys()]);
    } finally {
      socket.disconnect();
    }
  });
}

test('namespaces: /custom joins, an unknown one is refused', async () => {
  const custom = connect(`${conformance.url}/custom`, TRANSPORTS.websocket);
  try {
    const [auth] = await once(custom, 'auth');
    assert.deepEqual(auth, {});
  } finally {
    custom.disconnect();
  }
  const unknown = connect(`${conformance.url}/nope`, TRANSPORTS.polling);
  try {
    const [error] = await once(unknown, 'connect_error');
    assert.equal(error.message, 'Invalid namespace');
  } finally {
    unknown.disconnect();
  }
});

test('the heartbeat keeps idle sessions alive on both transports', async () => {
  // The conformance server pings every 300 ms and allows 200 ms for the pong.
  const sockets = [connect(conformance.url, TRANSPORTS.websocket),
    connect(conformance.url, TRANSPORTS.polling)];
  try {
    await Promise.all(sockets.map((s) => once(s, 'connect')));
    let dropped = false;
    sockets.forEach((s) => s.on('disconnect', () => { dropped = true; }));
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(dropped, false);
    for (const s of sockets) {
      assert.equal(await s.timeout(2000).emitWithAck('message-with-ack', 'still here'), 'still here');
    }
  } finally {
    sockets.forEach((s) => s.disconnect());
  }
});

for (const name of ['websocket', 'polling']) {
  test(`clubvoiced streams the room's 440 Hz tone over ${name}`, async () => {
    const socket = connect(daemon.url, TRANSPORTS[name]);
    const events = [];
    socket.on('audio', (meta, opus) => events.push({ at: performance.now(), meta, opus }));
    try {
      await once(socket, 'config');
      await new Promise((r) => setTimeout(r, 2500));
    } finally {
      socket.disconnect();
    }
    const steady = events.slice(5);
    assert.ok(steady.length > 50, `only ${steady.length} audio events`);
    steady.forEach((e, i) => assert.equal(e.meta.seq, steady[0].meta.seq + i, 'seq has a gap'));
    const rate = (steady.length - 1) / ((steady.at(-1).at - steady[0].at) / 1000);
    assert.ok(Math.abs(rate - 50) <= 50 * 0.15, `rate ${rate} frames/s`);
    assert.ok(steady.every((e) => Buffer.isBuffer(e.opus) && e.opus.length > 0));
    const framed = Buffer.concat(steady.flatMap((e) => {
      const length = Buffer.alloc(4);
      length.writeUInt32LE(e.opus.length);
      return [length, e.opus];
    }));
    const result = spawnSync(process.env.OPUS_TONE, [], { input: framed });
    const tone = JSON.parse(result.stdout.toString());
    assert.equal(tone.dominant_hz, 440, JSON.stringify(tone));
  });
}

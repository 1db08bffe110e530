// A room on two servers, a page given both (connect([urlA, urlB])): when the
// one it listens to dies, the page moves to the other by itself, plays again
// and says which server it is on; a full server passes it on to the next;
// a refused token is not carried round the list. Each daemon plays its own
// tone, so what the page hears proves which one it listens to.
//
// The page comes from a third origin (a small static server here, as a site
// embedding the SDK would), so it outlives either daemon; both allow that
// origin in server.cors_origins, as every box of a room must.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import { extname, join, normalize } from 'node:path';
import {
  analyserPeakHz, launchBrowser, newToken, openPage, startDaemon, stats, waitFor,
} from './harness.mjs';

const DIST = join(process.env.CLUBVOICE_SOURCE_ROOT ?? join(import.meta.dirname, '..', '..'), 'web', 'dist');
const FAILOVER_BOUND_MS = 10000;
// While a server is away (or full) the browser itself logs each failed attempt.
const OUTAGE_NOISE = /WebSocket connection to .* failed|Failed to load resource|ERR_CONNECTION_REFUSED|503/;

// The test's page: the SDK from the bundle, connected to ?servers= (a JSON
// list) with ?token=, exposing the room and what it said.
const PAGE = `<!doctype html>
<meta charset="utf-8"><title>failover</title><link rel="icon" href="data:,">
<button id="listen" type="button">listen</button>
<script type="module">
import { connect } from './clubvoice.js';
const query = new URLSearchParams(location.search);
const room = connect(JSON.parse(query.get('servers')), { token: query.get('token') ?? undefined });
window.clubvoice = room;
window.seen = [];
room.on('state', (s) => window.seen.push(['state', s]));
room.on('url', (u) => window.seen.push(['url', u]));
document.getElementById('listen').onclick = () => room.listen();
</script>
`;

const TYPES = { '.js': 'text/javascript', '.html': 'text/html', '.css': 'text/css', '.wasm': 'application/wasm' };

// web/dist and the page, with the daemon's isolation headers (so the SDK
// runs as it does on the daemon's own pages, with shared memory).
function serveSite() {
  const server = http.createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, 'http://site').pathname));
    const headers = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };
    try {
      const body = path === '/failover.html' ? PAGE : await readFile(join(DIST, path));
      res.writeHead(200, { ...headers, 'content-type': TYPES[extname(path)] ?? 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404, headers);
      res.end();
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const env = { site: null, origin: null, token: null, daemons: [], browser: null };

// One box of the room: its tone, the same access rules and CORS as the others.
function startBox(toneHz, server = {}) {
  return startDaemon({
    toneHz,
    server: { cors_origins: JSON.stringify([env.origin]), ...server },
    access: { listen: 'token', talk: 'open', tokens: [env.token] },
  });
}

before(async () => {
  env.site = await serveSite();
  env.origin = `http://127.0.0.1:${env.site.address().port}`;
  env.token = newToken('listener', 'failover');
  env.a = await startBox(440);
  env.b = await startBox(660);
  env.daemons.push(env.a, env.b);
  env.browser = await launchBrowser();
});

after(async () => {
  await env.browser?.close();
  env.site?.close();
  for (const daemon of env.daemons) {
    if (daemon.child.signalCode === 'SIGKILL') continue; // a test failed before starting it again
    assert.equal(await daemon.stop(), 0, daemon.child.stderrText);
  }
});

function pageUrl(servers, token = env.token.token) {
  const query = new URLSearchParams({ servers: JSON.stringify(servers), token });
  return `${env.origin}/failover.html?${query}`;
}

// An edge dies: no goodbye, its connections just end.
function kill(daemon) {
  return new Promise((resolve) => {
    daemon.child.on('exit', resolve);
    daemon.child.kill('SIGKILL');
  });
}

const room = (page) => page.evaluate(() => ({ state: window.clubvoice.state, url: window.clubvoice.url }));

async function hears(page, hz) {
  return waitFor(`${hz} Hz at the analyser`, async () => {
    const p = await analyserPeakHz(page);
    return Math.abs(p.hz - hz) < 15 && p.db > -40 ? p : null;
  }, 3000);
}

// Live on `daemon` within the bound, and playing its tone again.
async function movesTo(page, daemon, toneHz, why) {
  const started = Date.now();
  await waitFor(`live on ${daemon.url} (${why})`, async () => {
    const now = await room(page);
    return now.state === 'live' && now.url === daemon.url;
  }, FAILOVER_BOUND_MS);
  const tookMs = Date.now() - started;
  const back = await stats(page);
  assert.equal(back.url, daemon.url);
  await waitFor('frames played on the new server', async () => (await stats(page)).played > back.played + 25, 3000);
  await hears(page, toneHz);
  return tookMs;
}

test('a refused token stays refused on the first server, not carried round the list', async () => {
  const page = await openPage(env.browser, pageUrl([env.a.url, env.b.url], 'not-a-valid-token'));
  try {
    await waitFor('the refusal', () => page.evaluate(() => window.clubvoice?.state === 'refused'), 5000);
    const first = await page.evaluate(() => window.clubvoice.url);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    assert.deepEqual(await room(page), { state: 'refused', url: first });
    const seen = await page.evaluate(() => window.seen);
    assert.deepEqual(seen.filter(([kind]) => kind === 'url'), [], JSON.stringify(seen));
    assert.deepEqual(page.problems, []);
  } finally {
    await page.context().close();
  }
});

test('a full server (503) passes the page on to the next one', async () => {
  const full = await startBox(880, { max_clients: 1 });
  env.daemons.push(full);
  // Its one session taken by a bare Engine.IO handshake (it lives until the
  // ping timeout, long after this test).
  const taken = await fetch(`${full.url}/socket.io/?EIO=4&transport=polling`);
  assert.equal(taken.status, 200);
  assert.equal((await fetch(`${full.url}/socket.io/?EIO=4&transport=polling`)).status, 503);

  const context = await env.browser.newContext();
  await context.addInitScript(() => {
    Math.random = () => 0; // the SDK then starts with the first server listed
  });
  const page = await openPage(env.browser, pageUrl([full.url, env.b.url]), {}, context);
  try {
    assert.equal(await page.evaluate(() => window.clubvoice.url), full.url);
    await page.click('#listen');
    const tookMs = await movesTo(page, env.b, 660, 'the first one is full');
    const seen = await page.evaluate(() => window.seen);
    assert.deepEqual(seen.filter(([kind]) => kind === 'url'), [['url', env.b.url]]);
    console.log(`live on the second server ${tookMs} ms after the page opened; ${JSON.stringify(seen)}`);
    assert.deepEqual(page.problems.filter((p) => !OUTAGE_NOISE.test(p)), []);
  } finally {
    await context.close();
  }
});

test('the server in use dies: the page moves to the other, plays it, and back again', async () => {
  const page = await openPage(env.browser, pageUrl([env.a.url, env.b.url]));
  try {
    await waitFor('the page to be live', async () => (await room(page)).state === 'live', 5000);
    const tone = new Map([[env.a, 440], [env.b, 660]]);
    const first = (await room(page)).url === env.a.url ? env.a : env.b;
    const second = first === env.a ? env.b : env.a;
    assert.equal((await room(page)).url, first.url);
    await page.click('#listen');
    await waitFor('sound', async () => (await stats(page)).played > 10, 3000);
    await hears(page, tone.get(first));
    await page.evaluate(() => {
      window.seen = [];
      window.sameDocument = true; // gone if the page reloads
    });

    await kill(first);
    const there = await movesTo(page, second, tone.get(second), `${first.url} killed`);
    let seen = await page.evaluate(() => window.seen);
    assert.deepEqual(seen.filter(([kind]) => kind === 'url'), [['url', second.url]]);
    assert.deepEqual([seen[0], seen[seen.length - 1]], [['state', 'reconnecting'], ['state', 'live']]);

    // The first one comes back; then the second dies: round the list again.
    await first.start();
    await page.evaluate(() => {
      window.seen = [];
    });
    await kill(second);
    const back = await movesTo(page, first, tone.get(first), `${second.url} killed`);
    seen = await page.evaluate(() => window.seen);
    assert.equal(seen.filter(([kind]) => kind === 'url').at(-1)[1], first.url);
    assert.equal(await page.evaluate(() => window.sameDocument), true);
    await second.start();
    console.log(`moved in ${there} ms, and back in ${back} ms; ${JSON.stringify(await stats(page))}`);
    assert.deepEqual(page.problems.filter((p) => !OUTAGE_NOISE.test(p)), []);
  } finally {
    await page.context().close();
  }
});

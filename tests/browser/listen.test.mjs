// The listen page in a real Chromium: the room's 440 Hz tone arrives in the
// worker, is decoded there (WebCodecs, and the WebAssembly fallback) and
// reaches the playout worklet through shared memory (or, where the page is
// not cross-origin isolated, through a MessagePort), and the page's figures
// say so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyserPeakHz, launchBrowser, openPage, stats, useDaemonAndBrowser, waitFor } from './harness.mjs';

const env = useDaemonAndBrowser({ toneHz: 440 });

// isolated: whether the page gets the daemon's COOP/COEP headers (and so
// SharedArrayBuffer); without them the worker falls back to a MessagePort.
async function listenAndCheck(path, decoder, isolated = true) {
  const context = await env.browser.newContext({ viewport: { width: 390, height: 844 } });
  if (!isolated) {
    // The page's own headers decide whether it is isolated.
    await context.route((url) => url.pathname === '/', async (route) => {
      const response = await route.fetch();
      const headers = { ...response.headers() };
      delete headers['cross-origin-opener-policy'];
      delete headers['cross-origin-embedder-policy'];
      await route.fulfill({ response, headers });
    });
  }
  const page = await openPage(env.browser, `${env.daemon.url}${path}`, {}, context);
  try {
    assert.equal(await page.evaluate(() => window.crossOriginIsolated), isolated);
    await waitFor('the page to be live', () => page.evaluate(() => window.clubvoice?.state === 'live'));
    assert.match(await page.textContent('#state'), /Live/);
    const clicked = Date.now();
    await page.click('#listen');
    const s = await waitFor('frames decoded and played', async () => {
      const now = await stats(page);
      return now.decoded > 10 && now.played > 10 ? now : null;
    }, 3000);
    assert.equal(s.decoder, decoder);
    assert.equal(s.sharedMemory, isolated);
    const peak = await waitFor('440 Hz at the analyser', async () => {
      const p = await analyserPeakHz(page);
      return Math.abs(p.hz - 440) < 15 && p.db > -40 ? p : null;
    }, Math.max(500, 3000 - (Date.now() - clicked)));
    assert.ok(peak.db > -40, `tone level ${peak.db} dB`);
    await waitFor('a latency figure', async () => (await stats(page)).latencyMs > 0);
    const final = await stats(page);
    assert.ok(final.bufferMs > 0 && final.bufferMs <= 200, `buffer ${final.bufferMs} ms`);
    await waitFor('the figures line', async () => /Latency \d+\sms/.test(await page.textContent('#figures')));
    assert.equal((await page.getAttribute('#listen', 'aria-pressed')), 'true');
    console.log(`${path} (${decoder}): ${JSON.stringify(final)}`);
    assert.deepEqual(page.problems, []);
  } finally {
    await context.unrouteAll({ behavior: 'ignoreErrors' });
    await context.close();
  }
}

test('listen page plays the room with WebCodecs', () => listenAndCheck('/', 'webcodecs'));

test('listen page plays the room with the WebAssembly decoder', () => listenAndCheck('/?decoder=wasm', 'wasm'));

test('without cross-origin isolation the room plays through a MessagePort', () => listenAndCheck('/', 'webcodecs', false));

test('on a page that is not secure the listen page says why there is no sound', async () => {
  // A name other than localhost makes plain http an insecure context.
  const insecure = await launchBrowser(['--host-resolver-rules=MAP room.example 127.0.0.1']);
  try {
    const page = await openPage(insecure, `http://room.example:${env.daemon.port}/`);
    await waitFor('the page to be live', () => page.evaluate(() => window.clubvoice?.state === 'live'));
    assert.equal(await page.evaluate(() => window.isSecureContext), false);
    await page.click('#listen');
    await waitFor('the explanation', () => page.isVisible('#listen-problem'), 3000);
    assert.match(await page.textContent('#listen-problem'), /secure page: open this page over https/);
    assert.equal(await page.getAttribute('#listen', 'aria-pressed'), 'false');
    // Chromium says it ignores COOP on an untrustworthy origin: expected here.
    assert.deepEqual(page.problems.filter((p) => !/Cross-Origin-Opener-Policy header has been ignored/.test(p)), []);
  } finally {
    await insecure.close();
  }
});

// The daemon restarts under a listening page: the page says it is
// reconnecting, comes back live on its own (no reload) and plays again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyserPeakHz, openPage, sleep, stats, useDaemonAndBrowser, waitFor } from './harness.mjs';

const env = useDaemonAndBrowser({ toneHz: 440 });

// While the server is away the browser itself logs each failed attempt.
const OUTAGE_NOISE = /WebSocket connection to .* failed|Failed to load resource|ERR_CONNECTION_REFUSED/;

test('the page reconnects after a daemon restart and plays again', async () => {
  const page = await openPage(env.browser, env.daemon.url);
  try {
    await waitFor('the page to be live', () => page.evaluate(() => window.clubvoice?.state === 'live'));
    await page.evaluate(() => {
      window.seenStates = [];
      window.clubvoice.on('state', (s) => window.seenStates.push(s));
      window.sameDocument = true; // gone if the page reloads
    });
    await page.click('#listen');
    await waitFor('sound', async () => (await stats(page)).played > 10, 3000);

    await env.daemon.stop();
    await waitFor('the reconnecting state', async () => /reconnecting/.test(await page.textContent('#state')), 3000);
    await sleep(1000);
    await env.daemon.start();

    await waitFor('live again', async () => /Live/.test(await page.textContent('#state')), 10000);
    const back = await stats(page);
    await waitFor('frames played after the restart', async () => (await stats(page)).played > back.played + 25, 3000);
    await waitFor('440 Hz again', async () => Math.abs((await analyserPeakHz(page)).hz - 440) < 15, 2000);
    assert.equal(await page.evaluate(() => window.sameDocument), true);
    const states = await page.evaluate(() => window.seenStates);
    assert.deepEqual([states[0], states[states.length - 1]], ['reconnecting', 'live']);
    const after = await stats(page);
    console.log(`states ${states.join(' -> ')}; after: ${JSON.stringify(after)}`);
    assert.deepEqual(page.problems.filter((p) => !OUTAGE_NOISE.test(p)), []);
  } finally {
    await page.context().close();
  }
});

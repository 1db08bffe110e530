// The daemon restarts under a listening page: the page says it is
// reconnecting, comes back live on its own (no reload) and plays again.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { analyserPeakHz, launchBrowser, openPage, sleep, startDaemon, stats, waitFor } from './harness.mjs';

let daemon;
let browser;
before(async () => {
  daemon = await startDaemon({ toneHz: 440 });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  assert.equal(await daemon.stop(), 0, daemon.child.stderrText);
});

// While the server is away the browser itself logs each failed attempt.
const OUTAGE_NOISE = /WebSocket connection to .* failed|Failed to load resource|ERR_CONNECTION_REFUSED/;

test('the page reconnects after a daemon restart and plays again', async () => {
  const page = await openPage(browser, daemon.url);
  try {
    await waitFor('the page to be live', () => page.evaluate(() => window.clubvoice?.state === 'live'));
    await page.evaluate(() => {
      window.seenStates = [];
      window.clubvoice.on('state', (s) => window.seenStates.push(s));
      window.sameDocument = true; // gone if the page reloads
    });
    await page.click('#listen');
    await waitFor('sound', async () => (await stats(page)).played > 10, 3000);

    await daemon.stop();
    await waitFor('the reconnecting state', async () => /reconnecting/.test(await page.textContent('#state')), 3000);
    await sleep(1000);
    await daemon.start();

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

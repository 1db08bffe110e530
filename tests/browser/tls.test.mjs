// The pages over HTTPS (server.tls_cert_file/tls_key_file), reached by a
// host name that is not localhost: a secure context, so the listen page
// plays the room where plain http would only explain why it cannot.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyserPeakHz, openPage, stats, useDaemonAndBrowser, waitFor } from './harness.mjs';

const NAME = 'room.example';
// The certificate is the test's own: Chromium is told to accept it.
const env = useDaemonAndBrowser({ toneHz: 440, tlsName: NAME },
  [`--host-resolver-rules=MAP ${NAME} 127.0.0.1`, '--ignore-certificate-errors']);

test('over https on a LAN name the listen page is live and plays the room', async () => {
  const page = await openPage(env.browser, `https://${NAME}:${env.daemon.port}/`);
  try {
    assert.equal(await page.evaluate(() => window.isSecureContext), true);
    await waitFor('the page to be live', () => page.evaluate(() => window.clubvoice?.state === 'live'));
    await page.click('#listen');
    await waitFor('frames decoded and played', async () => {
      const s = await stats(page);
      return s.decoded > 10 && s.played > 10;
    }, 3000);
    const peak = await waitFor('440 Hz at the analyser', async () => {
      const p = await analyserPeakHz(page);
      return Math.abs(p.hz - 440) < 15 && p.db > -40 ? p : null;
    }, 3000);
    assert.ok(peak.db > -40);
    // Polling first, then the upgrade to a WebSocket over TLS (WSS).
    await waitFor('the upgrade to WSS', async () => (await stats(page)).transport === 'websocket', 5000);
    assert.deepEqual(page.problems, []);
  } finally {
    await page.context().close();
  }
});

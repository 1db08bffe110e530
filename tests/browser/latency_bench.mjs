// Capture-to-ear latency of the listen page in Debian's Chromium against
// clubvoiced on loopback, at the default settings and at the low-latency
// ones (10 ms frames, 5 ms ALSA period). A benchmark that prints figures,
// not a test:
//   CLUBVOICED=build/daemon/clubvoiced node tests/browser/latency_bench.mjs [seconds]
// Latency = when a sample reaches the speaker (AudioContext output
// timestamp) minus its capture time `t`; the daemon and the browser share
// this machine's clock.
import { launchBrowser, openPage, sleep, startDaemon, stats, waitFor } from './harness.mjs';

const seconds = Number(process.argv[2] ?? 20);
const SETTINGS = {
  default: {},
  'low latency': { frame_ms: 10, period_ms: 5, buffer_ms: 20 },
};

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
};
const fmt = (v) => v.toFixed(1);

const browser = await launchBrowser();
try {
  for (const [name, audio] of Object.entries(SETTINGS)) {
    const daemon = await startDaemon({ audio, seconds: seconds + 30 });
    try {
      const page = await openPage(browser, daemon.url);
      await waitFor('live', () => page.evaluate(() => window.clubvoice?.state === 'live'));
      await page.evaluate(() => {
        window.arrivals = [];
        window.clubvoice.socket.on('audio', (meta) => window.arrivals.push(Date.now() - meta.t));
      });
      await page.click('#listen');
      await sleep((seconds / 2) * 1000); // let the jitter buffer settle
      await page.evaluate(() => { window.arrivals = []; });
      const samples = [];
      const end = Date.now() + (seconds / 2) * 1000;
      while (Date.now() < end) {
        samples.push(await stats(page));
        await sleep(250);
      }
      const arrivals = await page.evaluate(() => window.arrivals);
      const last = samples[samples.length - 1];
      const lat = samples.map((s) => s.latencyMs).filter((v) => v > 0);
      console.log(`${name} (${JSON.stringify(audio)}): decoder ${last.decoder}: ` +
        `latency median ${fmt(percentile(lat, 0.5))} ms, p95 ${fmt(percentile(lat, 0.95))} ms; ` +
        `arrival (now - t) min ${fmt(Math.min(...arrivals))} median ${fmt(percentile(arrivals, 0.5))} ` +
        `max ${fmt(Math.max(...arrivals))} ms; buffer ${fmt(last.bufferMs)} ms (target ${fmt(last.targetMs)}, ` +
        `jitter ${fmt(last.jitterMs)}); output latency ${fmt(last.outputLatencyMs)} ms; ` +
        `rate ${last.rate.toFixed(5)}; played ${last.played}, concealed ${last.concealed}, dropped ${last.dropped}, underruns ${last.underruns}`);
      await page.context().close();
    } finally {
      await daemon.stop();
    }
  }
} finally {
  await browser.close();
}

// Capture-to-ear latency of the listen page in Debian's Chromium against
// clubvoiced on loopback: at the default settings and at the low-latency
// ones (10 ms frames, 5 ms ALSA period), each on a quiet page and on a page
// whose main thread is busy (a 30 ms task every 100 ms). A benchmark that
// prints figures, not a test:
//   CLUBVOICED=build/daemon/clubvoiced node tests/browser/latency_bench.mjs [seconds] [--spin]
// --spin keeps one core busy with a spinning process meanwhile (other work
// on the machine). Latency = when a sample reaches the speaker (the
// AudioContext's output timestamp) minus its capture time `t`; the daemon
// and the browser share this machine's clock. The device's output latency
// (AudioContext.outputLatency + baseLatency) is shown apart, and the
// figures without it. Each row samples the second half of its run; "growth"
// compares the mean latency of the last quarter with the first.
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { busyMainThread, launchBrowser, openPage, sleep, startDaemon, stats, waitFor } from './harness.mjs';

const args = process.argv.slice(2);
const seconds = Number(args.find((a) => /^\d+$/.test(a)) ?? 20);
const spin = args.includes('--spin');
const SETTINGS = {
  defaults: {},
  'low latency': { frame_ms: 10, period_ms: 5, buffer_ms: 20 },
};
const CONDITIONS = { quiet: false, busy: true };

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
};
const mean = (values) => values.reduce((a, b) => a + b, 0) / values.length;
const f = (v) => (v === null || v === undefined || Number.isNaN(v) ? '–' : v.toFixed(0));
const load = () => loadavg().map((v) => v.toFixed(2)).join(' ');

async function run(browser, daemon, busy) {
  const page = await openPage(browser, daemon.url);
  try {
    await waitFor('live', () => page.evaluate(() => window.clubvoice?.state === 'live'));
    await page.click('#listen');
    if (busy) await busyMainThread(page, 30, 100);
    await sleep((seconds / 2) * 1000); // the jitter buffer settles
    const first = await stats(page);
    const samples = [];
    const end = Date.now() + (seconds / 2) * 1000;
    while (Date.now() < end) {
      samples.push(await stats(page));
      await sleep(250);
    }
    const last = samples[samples.length - 1];
    const device = last.outputLatencyMs ?? 0;
    const lat = samples.map((s) => s.latencyMs).filter((v) => v > 0);
    const quarter = Math.max(1, Math.floor(lat.length / 4));
    return {
      median: percentile(lat, 0.5),
      p95: percentile(lat, 0.95),
      device,
      pageMedian: percentile(lat, 0.5) - device,
      pageP95: percentile(lat, 0.95) - device,
      growth: mean(lat.slice(-quarter)) - mean(lat.slice(0, quarter)),
      arrival: percentile(samples.map((s) => s.arrivalMs), 0.5),
      buffer: mean(samples.map((s) => s.bufferMs)),
      target: mean(samples.map((s) => s.targetMs)),
      jitter: mean(samples.map((s) => s.arrivalJitterMs)),
      corrections: `${last.accelerated - first.accelerated} cuts (${f(last.acceleratedMs - first.acceleratedMs)} ms), ` +
        `${last.stretched - first.stretched} repeats (${f(last.stretchedMs - first.stretchedMs)} ms), ` +
        `${last.dropped - first.dropped} dropped, ${last.concealed - first.concealed} concealed, ` +
        `${last.underruns - first.underruns} underruns`,
      decoder: last.decoder,
      shared: last.sharedMemory,
    };
  } finally {
    await page.context().close();
  }
}

const spinner = spin ? spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }) : null;
const browser = await launchBrowser();
console.log(`${seconds} s per row${spin ? ', one core kept busy by a spinning process' : ''}; load average ${load()}`);
console.log('| settings | page | capture → ear median (p95) | device output | without device median (p95) | ' +
  'growth | arrival now − t | buffer (target) | jitter | corrections | load avg |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|');
try {
  for (const [name, audio] of Object.entries(SETTINGS)) {
    const daemon = await startDaemon({ audio, seconds: 2 * seconds + 60 });
    try {
      for (const [condition, busy] of Object.entries(CONDITIONS)) {
        const r = await run(browser, daemon, busy);
        console.log(`| ${name} | ${condition} | ${f(r.median)} (${f(r.p95)}) ms | ${f(r.device)} ms | ` +
          `${f(r.pageMedian)} (${f(r.pageP95)}) ms | ${r.growth >= 0 ? '+' : ''}${r.growth.toFixed(1)} ms | ` +
          `${f(r.arrival)} ms | ${f(r.buffer)} (${f(r.target)}) ms | ${f(r.jitter)} ms | ${r.corrections} | ${load()} |`);
      }
    } finally {
      await daemon.stop();
    }
  }
} finally {
  await browser.close();
  spinner?.kill();
}

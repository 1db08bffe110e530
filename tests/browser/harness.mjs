// The browser tests' harness: clubvoiced with software sound devices (an
// ALSA `file` plugin reads the room from a raw file and writes what talkers
// say to another), Debian's Chromium driven by playwright-core, and the
// little signal analysis the tests need.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { chromium } from 'playwright-core';
import { freePort } from '../node/harness.mjs';

export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const RATE = 48000;

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Raw S16LE mono: a sine at hz, one second computed and repeated.
export function toneRaw(hz, seconds, amplitude = 0.5) {
  const one = new Int16Array(RATE);
  for (let i = 0; i < RATE; i++) one[i] = Math.round(amplitude * 32767 * Math.sin((2 * Math.PI * hz * i) / RATE));
  const out = Buffer.alloc(one.byteLength * seconds);
  for (let s = 0; s < seconds; s++) Buffer.from(one.buffer).copy(out, s * one.byteLength);
  return out;
}

// A 16-bit mono WAV of a tone in speech-like bursts (on, then silence):
// browsers' noise suppression treats a steady tone as noise and removes it.
export function burstWav(path, hz, seconds, onMs = 200, offMs = 100) {
  const n = RATE * seconds;
  const pcm = new Int16Array(n);
  const cycle = ((onMs + offMs) * RATE) / 1000;
  const on = (onMs * RATE) / 1000;
  for (let i = 0; i < n; i++) {
    const k = i % cycle;
    const ramp = Math.min(1, k / 240, (on - k) / 240); // 5 ms edges
    if (k < on) pcm[i] = Math.round(0.5 * 32767 * ramp * Math.sin((2 * Math.PI * hz * i) / RATE));
  }
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + pcm.byteLength, 4);
  header.write('WAVEfmt ', 8);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(RATE, 24);
  header.writeUInt32LE(RATE * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36);
  header.writeUInt32LE(pcm.byteLength, 40);
  writeFileSync(path, Buffer.concat([header, Buffer.from(pcm.buffer)]));
}

// Power of one frequency in a block of samples (Goertzel).
export function goertzel(samples, hz, rate = RATE) {
  const w = (2 * Math.PI * hz) / rate;
  const coeff = 2 * Math.cos(w);
  let s1 = 0;
  let s2 = 0;
  for (const x of samples) {
    const s0 = x + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return (s1 * s1 + s2 * s2 - coeff * s1 * s2) / (samples.length * samples.length);
}

// The strongest of candidate frequencies in a block, and how far (dB) it
// stands above the next strongest.
export function dominant(samples, candidates, rate = RATE) {
  const powers = candidates.map((hz) => [hz, goertzel(samples, hz, rate)]).sort((a, b) => b[1] - a[1]);
  const [[hz, p], [, next]] = powers;
  return { hz, marginDb: 10 * Math.log10(p / Math.max(next, 1e-20)), power: p };
}

// Frequencies to compare a tone against: it, and a spread of others.
export function candidatesAround(hz) {
  return [hz, 100, 200, 300, 500, 700, 880, 1500, 2000, 3000, 5000, 8000].filter(
    (f, i, all) => all.indexOf(f) === i && (f === hz || Math.abs(f - hz) > 50),
  );
}

// Samples of a raw S16LE file, from sample `from` on.
export function readS16(path, from = 0) {
  if (!existsSync(path)) return new Float32Array(0);
  const bytes = readFileSync(path);
  const ints = new Int16Array(bytes.buffer, bytes.byteOffset, Math.floor(bytes.byteLength / 2));
  return Float32Array.from(ints.subarray(from), (v) => v / 32768);
}

// The blocks (20 ms) of a recording louder than thresholdDb, joined.
export function loudPart(samples, thresholdDb = -40) {
  const block = RATE / 50;
  const parts = [];
  for (let i = 0; i + block <= samples.length; i += block) {
    const chunk = samples.subarray(i, i + block);
    let sum = 0;
    for (const v of chunk) sum += v * v;
    if (10 * Math.log10(sum / block + 1e-20) > thresholdDb) parts.push(chunk);
  }
  const out = new Float32Array(parts.length * block);
  parts.forEach((p, k) => out.set(p, k * block));
  return out;
}

// Where a test leaves its screenshots: under the build directory.
export function artifactDir(name) {
  const base = process.env.CLUBVOICE_ARTIFACTS ?? join(process.cwd(), 'browser-artifacts');
  const dir = join(base, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

// One GET; over https it trusts `ca` (the test's own certificate).
function get(url, ca) {
  return new Promise((resolve, reject) => {
    const request = (url.startsWith('https:') ? https : http).get(url, { ca }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    request.on('error', reject);
  });
}

async function waitForHttp(url, child, ca, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`clubvoiced exited with ${child.exitCode}:\n${child.stderrText}`);
    try {
      await get(url, ca);
      return;
    } catch {
      await sleep(50);
    }
  }
  throw new Error(`no answer from ${url}`);
}

// A self-signed certificate for `name` (and 127.0.0.1), made by openssl.
export function makeCertificate(dir, name) {
  const cert = join(dir, 'tls.crt');
  const key = join(dir, 'tls.key');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${name}`,
    '-addext', `subjectAltName=DNS:${name},IP:127.0.0.1`, '-keyout', key, '-out', cert], { stdio: 'ignore' });
  return { cert, key };
}

// A token made by the daemon itself (`clubvoiced --new-token ROLE NAME`):
// {token, item}, where item is the line the operator pastes under
// access.tokens, as startDaemon's access.tokens takes it.
export function newToken(role, name = role) {
  const out = execFileSync(process.env.CLUBVOICED ?? 'clubvoiced', ['--new-token', role, name], { encoding: 'utf8' });
  const lines = out.split('\n').filter((line) => line !== '');
  assert.equal(lines.length, 2, `--new-token printed:\n${out}`);
  return { token: lines[0], item: lines[1] };
}

// The access section: plain keys as JSON (a YAML flow value) and the
// tokens' list items as --new-token printed them. The daemon's package
// default is `talk: token`; tests that do not say otherwise talk freely.
function accessYaml(access) {
  if (access === null) return '';
  const { tokens = [], ...keys } = access ?? { talk: 'open' };
  return 'access:\n' + Object.entries(keys).map(([key, value]) => `  ${key}: ${JSON.stringify(value)}\n`).join('') +
    (tokens.length ? `  tokens:\n${tokens.map((t) => `${t.item ?? t}\n`).join('')}` : '');
}

// clubvoiced with software devices in a temporary directory. The room plays
// `toneHz`; what talkers say lands in `playbackPath`. restart() stops it and
// starts it again on the same port with the same files.
// `audio` adds keys to the audio section (e.g. {frame_ms: 10}) and `server`
// to the server section; `access` is the access section ({talk: 'open'}
// unless given; its `tokens` are newToken() results; null writes none);
// extraYaml adds other sections; `tlsName` serves HTTPS with a certificate
// for that name. The server allows many connections from one address: every
// test client comes from 127.0.0.1.
export async function startDaemon({
  toneHz = 440, audio = {}, server = {}, access, extraYaml = '', seconds = 120, tlsName = null,
} = {}) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'clubvoice-browser-'));
  const tone = join(dir, 'tone.raw');
  writeFileSync(tone, toneRaw(toneHz, seconds));
  const playbackPath = join(dir, 'playback.raw');
  const asoundrc = join(dir, 'asoundrc');
  writeFileSync(asoundrc,
    `pcm.clubvoice_capture { type file slave.pcm { type null } file "/dev/null" infile "${tone}" format raw }\n` +
    `pcm.clubvoice_playback { type file slave.pcm { type null } file "${playbackPath}" format raw }\n`);
  const config = join(dir, 'clubvoice.yaml');
  const webRoot = join(process.env.CLUBVOICE_SOURCE_ROOT ?? join(import.meta.dirname, '..', '..'), 'web', 'dist');
  const tls = tlsName ? makeCertificate(dir, tlsName) : null;
  const serverKeys = {
    host: '127.0.0.1', port, max_clients_per_ip: 100000, handshakes_per_ip_per_s: 100000,
    ...(tls ? { tls_cert_file: tls.cert, tls_key_file: tls.key } : {}), ...server,
  };
  writeFileSync(config, 'server:\n' + Object.entries(serverKeys).map(([key, value]) => `  ${key}: ${value}\n`).join('') +
    `web: {root: ${webRoot}}\n` +
    'audio:\n  capture: {device: clubvoice_capture}\n  playback: {device: clubvoice_playback}\n' +
    Object.entries(audio).map(([key, value]) => `  ${key}: ${value}\n`).join('') + accessYaml(access) + extraYaml);
  const scheme = tls ? 'https' : 'http';
  const ca = tls ? readFileSync(tls.cert) : undefined;
  const daemon = { port, url: `${scheme}://127.0.0.1:${port}`, dir, playbackPath, child: null };
  daemon.start = async () => {
    const child = spawn(process.env.CLUBVOICED ?? 'clubvoiced', ['-c', config],
      { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ALSA_CONFIG_PATH: asoundrc } });
    child.stderrText = '';
    child.stderr.on('data', (d) => { child.stderrText += d; });
    daemon.child = child;
    await waitForHttp(`${daemon.url}/health`, child, ca);
  };
  daemon.stop = () => new Promise((resolve) => {
    const child = daemon.child;
    if (!child || child.exitCode !== null) return resolve(child?.exitCode ?? 0);
    child.on('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
  daemon.restart = async () => {
    await daemon.stop();
    await daemon.start();
  };
  await daemon.start();
  return daemon;
}

// Debian's Chromium, headless. Extra flags go to the command line.
export async function launchBrowser(args = []) {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/install-deps`);
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', ...args] });
}

// Chromium flags for a fake microphone that plays `wav` (see burstWav) and
// is allowed without asking.
export function fakeMicrophone(wav) {
  return ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', `--use-file-for-fake-audio-capture=${wav}`];
}

// The setup most test files share: before the tests, a daemon (startDaemon's
// options) and a browser (launchBrowser's flags, or a function of the
// daemon that returns them); after them, both closed and the daemon's clean
// exit checked. Returns {daemon, browser}, filled in by the time tests run.
export function useDaemonAndBrowser(daemonOptions = {}, browserArgs = []) {
  const env = { daemon: null, browser: null };
  before(async () => {
    env.daemon = await startDaemon(daemonOptions);
    env.browser = await launchBrowser(typeof browserArgs === 'function' ? browserArgs(env.daemon) : browserArgs);
  });
  after(async () => {
    await env.browser?.close();
    if (env.daemon) assert.equal(await env.daemon.stop(), 0, env.daemon.child.stderrText);
  });
  return env;
}

// Resolves when the page's room is live.
export function live(page, timeoutMs = 5000) {
  return waitFor('the page to be live', () => page.evaluate(() => window.clubvoice?.state === 'live'), timeoutMs);
}

// A page that records console errors and uncaught exceptions in `problems`,
// in a new context or in `context` when given.
export async function openPage(browser, url, contextOptions = {}, context = null) {
  context ??= await browser.newContext({ viewport: { width: 390, height: 844 }, ...contextOptions });
  const page = await context.newPage();
  page.problems = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') page.problems.push(`console: ${msg.text()}`);
  });
  page.on('pageerror', (err) => page.problems.push(`page error: ${err.message}`));
  await page.goto(url);
  return page;
}

// Collects the content security policy's refusals on every page of
// `context` in window.cspViolations.
export function recordCspViolations(context) {
  return context.addInitScript(() => {
    window.cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.cspViolations.push(`${e.violatedDirective}: ${e.blockedURI}`);
    });
  });
}

// Keeps the page's main thread busy, as a heavy site or a slow phone does:
// a task of taskMs every periodMs, until the page goes.
export function busyMainThread(page, taskMs = 30, periodMs = 100) {
  return page.evaluate(([task, period]) => {
    setInterval(() => {
      const end = performance.now() + task;
      while (performance.now() < end) {
        // spin: nothing else runs on this thread meanwhile
      }
    }, period);
  }, [taskMs, periodMs]);
}

export function stats(page) {
  return page.evaluate(() => window.clubvoice.stats());
}

// Polls fn until it returns something truthy, or fails after timeoutMs.
export async function waitFor(what, fn, timeoutMs = 5000, intervalMs = 100) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await fn();
    if (last) return last;
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${JSON.stringify(last)}`);
}

// The frequency the page's AnalyserNode (after the decoder) hears loudest.
export function analyserPeakHz(page) {
  return page.evaluate(() => {
    const analyser = window.clubvoice.analyser;
    const bins = new Float32Array(analyser.frequencyBinCount);
    analyser.getFloatFrequencyData(bins);
    let best = 0;
    for (let i = 1; i < bins.length; i++) if (bins[i] > bins[best]) best = i;
    const hz = (best * analyser.context.sampleRate) / analyser.fftSize;
    return { hz, db: bins[best] };
  });
}

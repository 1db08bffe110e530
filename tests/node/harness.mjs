// Starting the built daemon or the conformance server for the Node tests.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

async function waitForHttp(url, child, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try {
      await fetch(url);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`no answer from ${url}`);
}

function track(child) {
  child.stderrText = '';
  child.stderr.on('data', (d) => { child.stderrText += d; });
  child.stop = () => new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    child.on('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
  return child;
}

// Raw S16LE mono samples of a sine at 48 kHz.
export function toneBytes(hz, seconds, rate = 48000) {
  const samples = new Int16Array(rate * seconds);
  for (let i = 0; i < samples.length; i++) {
    samples[i] = Math.round(0.5 * 32767 * Math.sin(2 * Math.PI * hz * i / rate));
  }
  return Buffer.from(samples.buffer);
}

// clubvoiced with a temporary config on a free port; extraYaml is appended.
export async function startDaemon(extraYaml = '') {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'clubvoice-node-'));
  const config = join(dir, 'clubvoice.yaml');
  const root = process.env.CLUBVOICE_SOURCE_ROOT;
  // Software sound devices: capture reads a 440 Hz tone, playback writes a file.
  const tone = join(dir, 'tone.raw');
  writeFileSync(tone, toneBytes(440, 30));
  const asoundrc = join(dir, 'asoundrc');
  writeFileSync(asoundrc,
    `pcm.clubvoice_capture { type file slave.pcm { type null } file "/dev/null" ` +
    `infile "${tone}" format raw }\n` +
    `pcm.clubvoice_playback { type file slave.pcm { type null } ` +
    `file "${join(dir, 'playback.raw')}" format raw }\n`);
  // Talking open and the per-address limits lifted: the tests open many
  // sessions from 127.0.0.1 and talk without tokens.
  writeFileSync(config, `server: {host: 127.0.0.1, port: ${port}, ` +
    'max_clients_per_ip: 100000, handshakes_per_ip_per_s: 100000}\n' +
    'access: {talk: open}\n' +
    `web: {root: ${join(root, 'web', 'dist')}}\n` +
    'audio: {capture: {device: clubvoice_capture}, playback: {device: clubvoice_playback}}\n' +
    extraYaml);
  const child = track(spawn(process.env.CLUBVOICED, ['-c', config],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ALSA_CONFIG_PATH: asoundrc } }));
  await waitForHttp(`http://127.0.0.1:${port}/health`, child);
  return { port, url: `http://127.0.0.1:${port}`, child, dir };
}

export async function startConformanceServer() {
  const port = await freePort();
  const child = track(spawn(process.env.SIO_CONFORMANCE_SERVER, ['--port', String(port)],
    { stdio: ['ignore', 'ignore', 'pipe'] }));
  await waitForHttp(`http://127.0.0.1:${port}/`, child);
  return { port, url: `http://127.0.0.1:${port}`, child };
}

export function once(emitter, event, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${timeoutMs} ms`)), timeoutMs);
    emitter.once(event, (...args) => { clearTimeout(timer); resolve(args); });
  });
}

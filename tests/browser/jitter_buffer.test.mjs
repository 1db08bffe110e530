// The listener's jitter buffer (web/sdk/worklets/jitter_buffer.js) and the
// worker's arrival jitter (web/sdk/worker/arrival_jitter.js) under
// simulated networks: the same code the AudioWorklet and the worker run,
// driven here by a virtual clock so that minutes of audio take milliseconds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JitterBuffer } from '../../web/sdk/worklets/jitter_buffer.js';
import { ArrivalJitter } from '../../web/sdk/worker/arrival_jitter.js';
import { dominant } from './harness.mjs';

const RATE = 48000;
const QUANTUM = 128;

// Frames of a 440 Hz sine, `frameMs` each, sent every frameMs of the
// sender's clock (which runs `drift` faster than the sound card's) and
// arriving after delay(seq) ms, when the worker times them; the sound card
// pulls 128-sample quanta in bursts of `burst` (like a device with a 10 ms
// buffer), and the worklet takes the frames that came before each burst.
// stalled(q): the card pulls nothing at quantum q (the audio thread was
// held up) while time goes on. Returns the buffer and the rendered samples.
function simulate({
  seconds, frameMs = 20, delay = () => 0, drift = 0, burst = 4, seqAt = (n) => 1000 + n, stalled = () => false,
}) {
  const jb = new JitterBuffer({ channels: 1, frameMs });
  const arrivals = new ArrivalJitter();
  const fs = (RATE * frameMs) / 1000;
  const frames = [];
  for (let n = 0; n * frameMs < (seconds + 1) * 1000; n++) {
    const d = delay(n);
    if (d === null) continue; // lost
    frames.push({ n, at: (n * frameMs) / (1 + drift) + d });
  }
  frames.sort((a, b) => a.at - b.at);
  const quanta = Math.floor((seconds * RATE) / QUANTUM);
  const out = new Float32Array(quanta * QUANTUM);
  const trace = [];
  let next = 0;
  let written = 0;
  for (let q = 0; q < quanta; q += burst) {
    const now = ((q * QUANTUM) / RATE) * 1000; // the card pulls a burst at once
    while (next < frames.length && frames[next].at <= now) {
      const { n, at } = frames[next++];
      const plane = new Float32Array(fs);
      for (let i = 0; i < fs; i++) plane[i] = 0.5 * Math.sin((2 * Math.PI * 440 * (n * fs + i)) / RATE);
      arrivals.add(n * frameMs, at);
      jb.push(seqAt(n), n * frameMs, [plane], arrivals.jitterMs);
    }
    if (stalled(q)) continue;
    for (let b = 0; b < burst && q + b < quanta; b++) {
      jb.render([out.subarray(written, written + QUANTUM)], QUANTUM);
      written += QUANTUM;
    }
    trace.push({ now, ...jb.stats() });
  }
  return { jb, out: out.subarray(0, written), trace };
}

// Largest step between neighbouring samples: a click shows as a jump far
// above what a 440 Hz sine at 0.5 can do (0.029 per sample).
function largestStep(samples) {
  let worst = 0;
  for (let i = 1; i < samples.length; i++) worst = Math.max(worst, Math.abs(samples[i] - samples[i - 1]));
  return worst;
}

function last(trace, seconds) {
  const end = trace[trace.length - 1].now;
  return trace.filter((s) => s.now >= end - seconds * 1000);
}

const mean = (values) => values.reduce((a, b) => a + b, 0) / values.length;

test('a clean network settles near 20 ms and plays the tone without a glitch', () => {
  const { jb, out, trace } = simulate({ seconds: 20 });
  const s = jb.stats();
  assert.equal(s.concealed, 0);
  assert.equal(s.underruns, 0);
  assert.ok(s.targetMs <= 25, `target ${s.targetMs}`);
  const depth = mean(last(trace, 5).map((x) => x.avgDepthMs));
  assert.ok(Math.abs(depth - s.targetMs) < 5, `depth ${depth} vs target ${s.targetMs}`);
  const tail = out.subarray(out.length - RATE);
  assert.equal(dominant(tail, [440, 300, 880, 1000]).hz, 440);
  assert.ok(largestStep(out.subarray(RATE)) < 0.04, `step ${largestStep(out.subarray(RATE))}`);
});

test('jitter raises the target, and few frames are concealed once it has', () => {
  let x = 1;
  const random = () => ((x = (x * 16807) % 2147483647) / 2147483647);
  const { jb, trace } = simulate({ seconds: 30, delay: () => random() * 40 });
  const s = jb.stats();
  assert.ok(s.targetMs >= 40 && s.targetMs <= 80, `target ${s.targetMs}`);
  const settled = last(trace, 20);
  const concealedLate = settled[settled.length - 1].concealed - settled[0].concealed;
  assert.ok(concealedLate <= 5, `${concealedLate} concealed in the last 20 s`);
});

test('a sound card slower than the sender is followed by resampling, not by drops', () => {
  const { jb, trace } = simulate({ seconds: 60, drift: 0.001 });
  const s = jb.stats();
  assert.equal(s.dropped, 0);
  assert.equal(s.concealed, 0);
  const tail = last(trace, 10);
  assert.ok(Math.abs(mean(tail.map((x) => x.rate)) - 1.001) < 0.0003, `rate ${s.rate}`);
  assert.ok(Math.abs(mean(tail.map((x) => x.avgDepthMs)) - s.targetMs) < 3, `depth ${s.avgDepthMs} target ${s.targetMs}`);
});

test('lost frames are concealed without clicks', () => {
  const { jb, out } = simulate({ seconds: 10, delay: (n) => (n % 50 === 25 ? null : 0) });
  const s = jb.stats();
  assert.ok(s.concealed >= 9 && s.concealed <= 11, `concealed ${s.concealed}`);
  assert.equal(s.underruns, 0);
  assert.ok(largestStep(out.subarray(RATE)) < 0.08, `step ${largestStep(out.subarray(RATE))}`);
});

test('after a stall the backlog is shed and the buffer returns to its target', () => {
  const { jb, trace } = simulate({ seconds: 30, delay: (n) => (n >= 500 && n < 520 ? (520 - n) * 20 : 0) });
  const s = jb.stats();
  assert.ok(s.underruns <= 1, `underruns ${s.underruns}`);
  assert.ok(s.dropped >= 10, `only ${s.dropped} frames of the backlog dropped`);
  assert.ok(s.targetMs < 80, `target ${s.targetMs}`);
  const tail = last(trace, 3);
  assert.ok(mean(tail.map((x) => x.avgDepthMs)) < s.targetMs + 15, `depth ${s.avgDepthMs} target ${s.targetMs}`);
});

test('a sequence that starts over (the server restarted) is followed', () => {
  const { jb, out } = simulate({ seconds: 6, seqAt: (n) => (n < 150 ? 5000 + n : n - 150) });
  const s = jb.stats();
  assert.equal(s.resyncs, 1);
  assert.equal(s.state, 'playing');
  assert.equal(dominant(out.subarray(out.length - RATE / 2), [440, 300, 880]).hz, 440);
});

test('10 ms frames on a clean network settle at 20 ms or below', () => {
  const { jb, out, trace } = simulate({ seconds: 20, frameMs: 10 });
  const s = jb.stats();
  assert.equal(s.underruns, 0);
  assert.ok(s.concealed <= 2, `concealed ${s.concealed}`);
  assert.ok(s.targetMs <= 20, `target ${s.targetMs}`);
  const depth = mean(last(trace, 5).map((x) => x.avgDepthMs));
  assert.ok(depth <= 22, `depth ${depth} vs target ${s.targetMs}`);
  assert.equal(dominant(out.subarray(out.length - RATE), [440, 300, 880, 1000]).hz, 440);
});

test('a backlog of a steady tone is cut back to the target within seconds, without clicks', () => {
  // The sound card pulls nothing for 80 ms at 10 s: frames pile up while
  // the arrivals stay even, so the target does not move.
  const stallFrom = Math.floor((10 * RATE) / QUANTUM);
  const stallTo = stallFrom + Math.ceil((0.08 * RATE) / QUANTUM);
  const { jb, out, trace } = simulate({ seconds: 16, stalled: (q) => q >= stallFrom && q < stallTo });
  const s = jb.stats();
  const after = (sec) => trace.filter((x) => x.now >= (10 + sec) * 1000 && x.now < (11 + sec) * 1000);
  assert.ok(Math.max(...after(0).map((x) => x.depthMs)) > s.targetMs + 50, 'no backlog built up');
  assert.ok(s.accelerated > 0 && s.acceleratedMs >= 40, `cut ${s.accelerated} times, ${s.acceleratedMs} ms`);
  assert.equal(s.dropped, 0);
  assert.equal(s.concealed, 0);
  const settled = mean(after(3).map((x) => x.avgDepthMs));
  assert.ok(Math.abs(settled - s.targetMs) < 6, `depth ${settled} vs target ${s.targetMs} 3 s later`);
  assert.ok(largestStep(out.subarray(RATE)) < 0.04, `step ${largestStep(out.subarray(RATE))}`);
});

test('a lone late frame is concealed, but lateness that keeps coming raises the target', () => {
  const once = simulate({ seconds: 20, frameMs: 10, delay: (n) => (n === 1000 ? 50 : 0) });
  assert.ok(once.jb.stats().targetMs <= 20, `target ${once.jb.stats().targetMs} after one late frame`);
  assert.ok(once.jb.stats().concealed <= 6, `concealed ${once.jb.stats().concealed}`);
  const often = simulate({ seconds: 20, frameMs: 10, delay: (n) => (n % 20 === 0 ? 40 : 0) });
  const s = often.jb.stats();
  assert.ok(s.targetMs >= 45, `target ${s.targetMs} with every 20th frame 40 ms late`);
  const settled = last(often.trace, 5);
  const concealedLate = settled[settled.length - 1].concealed - settled[0].concealed;
  assert.ok(concealedLate <= 2, `${concealedLate} concealed in the last 5 s`);
});

test('when the target rises the buffer follows within seconds, repeating pitch periods', () => {
  // From 10 s on, every 20th frame comes 40 ms late.
  const { jb, out, trace } = simulate({ seconds: 16, delay: (n) => (n >= 500 && n % 20 === 0 ? 40 : 0) });
  const s = jb.stats();
  assert.ok(s.targetMs >= 50, `target ${s.targetMs}`);
  assert.ok(s.stretched > 0, 'no pitch period repeated');
  const at = (sec) => trace.filter((x) => x.now >= sec * 1000 && x.now < (sec + 1) * 1000);
  const settled = mean(at(14).map((x) => x.avgDepthMs - x.targetMs));
  assert.ok(Math.abs(settled) < 5, `depth ${settled.toFixed(1)} ms from the target 4 s after the rise`);
  const late = at(15);
  assert.equal(late[late.length - 1].concealed - late[0].concealed, 0);
  assert.ok(largestStep(out.subarray(RATE)) < 0.08, `step ${largestStep(out.subarray(RATE))}`);
});

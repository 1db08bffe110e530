// The playout side of the listener: a jitter buffer whose target follows the
// measured arrival jitter, a playhead that resamples by a ratio a hair off 1
// to keep the buffer at its target (server and sound card clocks drift), and
// concealment for frames that never came. Pure logic with no Web Audio types,
// so it runs inside the AudioWorklet (audio rendering thread) and under Node.
import { Concealer } from './concealer.js';
import { JitterEstimator } from './jitter_estimator.js';

const RING = 1 << 16; // samples per channel kept (1.36 s at 48 kHz)
const MASK = RING - 1;
const RATE = 48000; // the stream's rate (Opus in clubvoice is always 48 kHz)
const FADE = 96; // samples of fade or crossfade at joins (2 ms)
const KIND_NONE = 0;
const KIND_REAL = 1;
const KIND_CONCEALED = 2;

export class JitterBuffer {
  constructor({ channels = 1, frameMs = 20, outRate = RATE, minTargetMs = 20, maxTargetMs = 200 } = {}) {
    this.channels = channels;
    this.frameMs = frameMs;
    this.fs = Math.round((RATE * frameMs) / 1000);
    this.baseStep = RATE / outRate;
    this.outRate = outRate;
    this.minTargetMs = minTargetMs;
    this.maxTargetMs = maxTargetMs;
    this.ring = Array.from({ length: channels }, () => new Float32Array(RING));
    this.slots = Math.ceil(RING / this.fs) + 2;
    this.slotFrame = new Float64Array(this.slots).fill(-1);
    this.slotT = new Float64Array(this.slots);
    this.slotKind = new Uint8Array(this.slots);
    this.maxAhead = Math.floor(RING / this.fs) - 3; // frames ahead of the playhead that fit
    this.jitter = new JitterEstimator(frameMs);
    this.concealer = new Concealer(channels, this.fs);
    this.counters = { received: 0, played: 0, concealed: 0, late: 0, dropped: 0, underruns: 0, resyncs: 0 };
    this.lastOut = new Float32Array(channels);
    this.reset();
  }

  // Forget the stream (a new connection, or a jump in seq): prefill again.
  reset() {
    this.base = null; // seq of relative frame 0
    this.state = 'prefill';
    this.pos = 0; // playhead, in stream samples since frame 0 (fractional)
    this.newest = -1; // newest relative frame stored
    this.curFrame = -1; // frame the playhead's lookahead last entered
    this.concealRun = 0; // consecutive concealed frames
    this.learning = false; // whether arrivals feed the jitter estimate yet
    this.avgDepth = null;
    this.adj = 0; // relative rate correction
    this.drift ??= 0; // its integral part: the clocks' drift, kept across resets
    this.fadeIn = 0;
    this.xfade = 0; // samples left of a crossfade after a skip
    this.xfadePos = 0;
    this.slotFrame.fill(-1);
    this.jitter.reset();
  }

  get targetMs() {
    const t = this.frameMs / 2 + this.jitter.jitterMs + 5;
    return Math.min(this.maxTargetMs, Math.max(this.minTargetMs, t));
  }

  // Buffered audio ahead of the playhead, in ms (frames missing in between count).
  get depthMs() {
    if (this.newest < 0) return 0;
    return Math.max(0, ((this.newest + 1) * this.fs - this.pos) / (RATE / 1000));
  }

  slotOf(frame) {
    return ((frame % this.slots) + this.slots) % this.slots;
  }

  kindOf(frame) {
    const s = this.slotOf(frame);
    return this.slotFrame[s] === frame ? this.slotKind[s] : KIND_NONE;
  }

  // One decoded frame. planes: one Float32Array of fs samples per channel;
  // t: capture time of its first sample (ms since the epoch); nowMs: arrival
  // on the consumer's clock.
  push(seq, t, planes, nowMs) {
    this.counters.received++;
    if (this.base === null) this.start(seq);
    let frame = seq - this.base;
    const playFrame = Math.floor(this.pos / this.fs);
    if (frame > playFrame + this.maxAhead || frame < playFrame - 50) {
      // The stream jumped (the server restarted, or we fell far behind): start over.
      this.counters.resyncs++;
      this.reset();
      this.start(seq);
      frame = 0;
    } else if (this.state === 'playing' && frame <= this.curFrame) {
      this.counters.late++;
      this.jitter.add(frame, nowMs);
      return;
    } else if (this.state !== 'playing' && frame < playFrame) {
      this.counters.late++;
      return;
    }
    // Arrivals teach the estimator only once the buffer has settled after a
    // start: the decoder warming up or the backlog of a stall arrive in a
    // burst that says nothing about the network's jitter.
    if (this.learning) this.jitter.add(frame, nowMs);
    this.store(frame, t, planes);
    if (this.state === 'prefill' && this.depthMs >= this.targetMs + this.frameMs / 2) {
      this.state = 'playing';
      this.fadeIn = FADE;
      this.avgDepth = this.depthMs - this.frameMs / 2;
    }
  }

  start(seq) {
    this.base = seq;
    this.pos = 0;
    this.curFrame = -1;
    this.newest = -1;
    this.concealRun = 0;
    this.learning = false;
    this.slotFrame.fill(-1);
    this.jitter.rebase(); // frame numbers restart: old transit times no longer compare
    // The interpolator reads one sample behind the playhead: make it silence.
    for (const plane of this.ring) {
      for (let i = 1; i <= 4; i++) plane[(RING - i) & MASK] = 0;
    }
  }

  store(frame, t, planes) {
    const s = this.slotOf(frame);
    const at = frame * this.fs;
    for (let c = 0; c < this.channels; c++) {
      const src = planes[Math.min(c, planes.length - 1)];
      const dst = this.ring[c];
      for (let i = 0; i < this.fs; i++) dst[(at + i) & MASK] = src[i] ?? 0;
    }
    if (this.kindOf(frame - 1) === KIND_CONCEALED) this.concealer.blendInto(this.ring, at);
    this.slotFrame[s] = frame;
    this.slotT[s] = t;
    this.slotKind[s] = KIND_REAL;
    if (frame > this.newest) this.newest = frame;
  }

  // The playhead's lookahead enters `frame`: make sure there is sound there.
  enter(frame) {
    const prev = this.curFrame;
    this.curFrame = frame;
    if (prev >= 0 && this.kindOf(prev) === KIND_REAL) this.counters.played++;
    const kind = this.kindOf(frame);
    if (kind === KIND_REAL) {
      this.concealRun = 0;
      this.maybeSkip(frame);
      return true;
    }
    // Missing: a gap before newer frames, or the buffer ran dry. Conceal a
    // little; if nothing comes, stop and prefill again.
    if (frame > this.newest && this.concealRun >= 2) {
      this.counters.underruns++;
      this.jitter.bump(this.frameMs);
      this.state = 'prefill';
      this.base = null;
      return false;
    }
    const s = this.slotOf(frame);
    const prevT = this.slotFrame[this.slotOf(frame - 1)] === frame - 1 ? this.slotT[this.slotOf(frame - 1)] : 0;
    this.concealer.fill(this.ring, frame * this.fs, this.concealRun);
    // The next frame may be here already (only this one was lost): join it.
    if (this.kindOf(frame + 1) === KIND_REAL) this.concealer.blendInto(this.ring, (frame + 1) * this.fs);
    this.slotFrame[s] = frame;
    this.slotT[s] = prevT ? prevT + this.frameMs : 0;
    this.slotKind[s] = KIND_CONCEALED;
    this.concealRun++;
    this.counters.concealed++;
    if (frame > this.newest) this.newest = frame;
    return true;
  }

  // Far more buffered than the target (a burst after a stall): skip whole
  // frames with a crossfade. One at a time where it is quiet; where it is
  // loud, only a large excess, all at once, and the rest is left to the
  // rate correction.
  maybeSkip(frame) {
    if (this.xfade > 0) return;
    const excess = this.depthMs - this.targetMs - this.frameMs / 2;
    if (excess < Math.max(40, this.targetMs / 2)) return;
    const far = excess >= 100;
    if (!far && !this.isQuiet(frame)) return;
    let skip = far ? Math.floor(excess / this.frameMs) : 1;
    while (skip > 0 && this.kindOf(frame + skip) !== KIND_REAL) skip--;
    if (skip === 0) return;
    this.xfadePos = this.pos;
    this.xfade = FADE;
    this.pos += skip * this.fs;
    this.curFrame = frame + skip;
    this.counters.dropped += skip;
    this.avgDepth = this.depthMs - this.frameMs / 2;
  }

  isQuiet(frame) {
    const at = frame * this.fs;
    let sum = 0;
    for (let i = 0; i < this.fs; i += 4) {
      const v = this.ring[0][(at + i) & MASK];
      sum += v * v;
    }
    return sum / (this.fs / 4) < 1e-5; // below about -50 dBFS
  }

  // Four-point cubic (Catmull-Rom) read at a fractional stream position.
  read(plane, p) {
    const k = Math.floor(p);
    const f = p - k;
    const y0 = plane[(k - 1) & MASK];
    const y1 = plane[k & MASK];
    const y2 = plane[(k + 1) & MASK];
    const y3 = plane[(k + 2) & MASK];
    const a = -0.5 * y0 + 1.5 * y1 - 1.5 * y2 + 0.5 * y3;
    const b = y0 - 2.5 * y1 + 2 * y2 - 0.5 * y3;
    const c = -0.5 * y0 + 0.5 * y2;
    return ((a * f + b) * f + c) * f + y1;
  }

  // Fill n samples of each output plane.
  render(out, n) {
    const step = this.baseStep * (1 + this.adj);
    for (let i = 0; i < n; i++) {
      if (this.state !== 'playing') {
        this.silence(out, i);
        continue;
      }
      const ahead = Math.floor(this.pos) + 2; // the interpolator's last tap
      const frame = Math.floor(ahead / this.fs);
      if (frame !== this.curFrame && !this.enter(frame)) {
        this.silence(out, i);
        continue;
      }
      const gain = this.fadeIn > 0 ? 1 - this.fadeIn-- / FADE : 1;
      for (let c = 0; c < this.channels; c++) {
        let v = this.read(this.ring[c], this.pos);
        if (this.xfade > 0) {
          const w = this.xfade / FADE;
          v = v * (1 - w) + this.read(this.ring[c], this.xfadePos) * w;
        }
        v *= gain;
        this.lastOut[c] = v;
        if (c < out.length) out[c][i] = v;
      }
      if (this.xfade > 0) {
        this.xfade--;
        this.xfadePos += step;
      }
      this.pos += step;
    }
    for (let c = this.channels; c < out.length; c++) out[c].set(out[this.channels - 1].subarray(0, n));
    this.steer(n);
  }

  // Not playing: let the last value die away rather than click.
  silence(out, i) {
    for (let c = 0; c < this.channels; c++) {
      this.lastOut[c] *= 0.95;
      if (c < out.length) out[c][i] = this.lastOut[c];
    }
  }

  // Set the rate correction from the average depth's error: a proportional
  // part (0.1 % per 10 ms) that moves the depth to the target, and a slow
  // integral part (at most 0.3 %) that learns the clocks' steady drift, so
  // the depth sits on the target instead of beside it. At most 0.5 % in
  // all (about 9 cents).
  steer(n) {
    if (this.state !== 'playing') {
      this.adj = this.drift;
      return;
    }
    const depth = this.depthMs;
    if (!this.learning && depth <= this.targetMs + this.frameMs) this.learning = true;
    const k = n / (0.5 * this.outRate); // smoothing over half a second
    this.avgDepth = this.avgDepth === null ? depth : this.avgDepth + (depth - this.avgDepth) * Math.min(1, k);
    const err = this.avgDepth - this.targetMs;
    this.drift = Math.max(-0.003, Math.min(0.003, this.drift + err * 1e-4 * (n / (10 * this.outRate))));
    this.adj = Math.max(-0.005, Math.min(0.005, err * 1e-4 + this.drift));
  }

  // Capture time (ms since the epoch) of the sample at the playhead, or 0.
  headCaptureT() {
    if (this.state !== 'playing') return 0;
    const frame = Math.floor(this.pos / this.fs);
    const s = this.slotOf(frame);
    if (this.slotFrame[s] !== frame || !this.slotT[s]) return 0;
    return this.slotT[s] + (this.pos - frame * this.fs) / (RATE / 1000);
  }

  stats() {
    return {
      state: this.state,
      depthMs: this.depthMs,
      avgDepthMs: this.avgDepth ?? 0,
      targetMs: this.targetMs,
      jitterMs: this.jitter.jitterMs,
      rate: 1 + this.adj,
      ...this.counters,
    };
  }
}

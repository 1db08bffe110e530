// The playout side of the listener: a jitter buffer whose target follows the
// arrival jitter the worker measures, a playhead that resamples by a ratio a
// hair off 1 to keep the buffer at its target (server and sound card clocks
// drift), cuts of whole pitch periods or quiet frames when a backlog builds
// (and repeats of them when it runs short of a target that rose), and
// concealment for frames that never came. Pure logic with no Web Audio
// types, so it runs inside the AudioWorklet (audio rendering thread) and
// under Node. Allocates only when constructed (stats() aside, for tests).
import { REACH, findCut } from './accelerator.js';
import { Concealer } from './concealer.js';

const RING = 1 << 16; // samples per channel kept (1.36 s at 48 kHz)
const MASK = RING - 1;
const RATE = 48000; // the stream's rate (Opus in clubvoice is always 48 kHz)
const FADE = 96; // samples of fade or crossfade at joins (2 ms)
const RELEASE_MS = 8000; // how slowly an underrun's extra margin fades
const KIND_NONE = 0;
const KIND_REAL = 1;
const KIND_CONCEALED = 2;
const COUNTERS = ['received', 'played', 'concealed', 'late', 'dropped', 'underruns', 'resyncs', 'accelerated', 'stretched'];

export class JitterBuffer {
  // minTargetMs: the floor of the target; by default half a frame (the
  // arrivals' sawtooth) plus marginMs (for the sound card's bursts; the
  // player derives it from the device's baseLatency).
  constructor({ channels = 1, frameMs = 20, outRate = RATE, minTargetMs = null, maxTargetMs = 200, marginMs = 7 } = {}) {
    this.channels = channels;
    this.frameMs = frameMs;
    this.fs = Math.round((RATE * frameMs) / 1000);
    this.baseStep = RATE / outRate;
    this.outRate = outRate;
    this.marginMs = marginMs;
    this.minTargetMs = minTargetMs ?? frameMs / 2 + marginMs;
    this.maxTargetMs = maxTargetMs;
    this.ring = Array.from({ length: channels }, () => new Float32Array(RING));
    this.slots = Math.ceil(RING / this.fs) + 2;
    this.slotFrame = new Float64Array(this.slots).fill(-1);
    this.slotT = new Float64Array(this.slots);
    this.slotKind = new Uint8Array(this.slots);
    this.maxAhead = Math.floor(RING / this.fs) - 3; // frames ahead of the playhead that fit
    this.concealer = new Concealer(channels, this.fs);
    this.counters = Object.fromEntries(COUNTERS.map((name) => [name, 0]));
    this.acceleratedMs = 0; // audio cut out by accelerate()
    this.stretchedMs = 0; // audio played twice by stretch()
    this.resampledMs = 0; // audio gained (+) or stretched (-) by the rate correction
    this.jitterMs = 0; // as the worker measured it
    this.bumpMs = 0; // added after an underrun, fading
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
    this.avgDepth = null;
    this.adj = 0; // relative rate correction
    this.drift ??= 0; // its integral part: the clocks' drift, kept across resets
    this.fadeIn = 0;
    this.xfade = 0; // samples left of a crossfade after a skip or a cut
    this.xfadePos = 0;
    this.cooldown = 0; // samples until the next cut may happen
    this.slotFrame.fill(-1);
  }

  get targetMs() {
    const t = this.frameMs / 2 + this.jitterMs + this.bumpMs + this.marginMs;
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
  // t: capture time of its first sample (ms since the epoch); jitterMs: the
  // arrival jitter measured when it came.
  push(seq, t, planes, jitterMs) {
    this.counters.received++;
    this.jitterMs = jitterMs;
    if (this.base === null) this.start(seq);
    let frame = seq - this.base;
    const playFrame = Math.floor(this.pos / this.fs);
    if (frame > playFrame + this.maxAhead || frame < playFrame - 50) {
      // The stream jumped (the server restarted, or we fell far behind): start over.
      this.counters.resyncs++;
      this.reset();
      this.start(seq);
      frame = 0;
    } else if (this.state === 'playing' ? frame <= this.curFrame : frame < playFrame) {
      this.counters.late++;
      return;
    }
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
    this.countedFrame = -1; // newest frame counted as played
    this.newest = -1;
    this.concealRun = 0;
    this.slotFrame.fill(-1);
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
      const n = Math.min(this.fs, src.length);
      for (let i = 0; i < n; i++) dst[(at + i) & MASK] = src[i];
      for (let i = n; i < this.fs; i++) dst[(at + i) & MASK] = 0;
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
    // Counted once, though a repeat may play part of it twice.
    if (prev > this.countedFrame && this.kindOf(prev) === KIND_REAL) {
      this.counters.played++;
      this.countedFrame = prev;
    }
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
      this.bumpMs = Math.min(this.maxTargetMs, this.bumpMs + this.frameMs);
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
  // loud, only a large excess, all at once, and the rest is left to cuts of
  // pitch periods and the rate correction.
  maybeSkip(frame) {
    if (this.xfade > 0) return;
    const excess = this.depthMs - this.targetMs - this.frameMs / 2;
    if (excess < this.frameMs + 5) return;
    const far = excess >= 100;
    if (!far && !this.isQuiet(frame)) return;
    let skip = far ? Math.floor(excess / this.frameMs) : 1;
    while (skip > 0 && this.kindOf(frame + skip) !== KIND_REAL) skip--;
    if (skip === 0) return;
    this.jump(skip * this.fs);
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

  // The buffer stays above its target: cut out a pitch period (or a quiet
  // stretch) just ahead of the playhead, at most one per frame, and only
  // while the buffer stays at or above its target after the cut (so that a
  // cut never calls for a repeat).
  accelerate() {
    if (this.avgDepth - this.targetMs < this.band || !this.realAround(0, REACH)) return;
    const cut = findCut(this.ring[0], MASK, Math.floor(this.pos), 1);
    const cutMs = cut / (RATE / 1000);
    if (cut === 0 || this.avgDepth - cutMs < this.targetMs) return;
    if (this.depthMs - cutMs < this.targetMs + this.frameMs / 2) return;
    this.jump(cut);
    this.counters.accelerated++;
    this.acceleratedMs += cutMs;
    this.avgDepth -= cutMs;
  }

  // The buffer stays below a target that rose (the arrivals grew uneven):
  // play a pitch period just behind the playhead again, at most one per
  // frame and never past the target, rather than wait seconds for the
  // resampler.
  stretch() {
    if (this.targetMs - this.avgDepth < this.band || !this.realAround(REACH, 256)) return;
    const back = findCut(this.ring[0], MASK, Math.floor(this.pos), -1);
    if (back === 0 || this.avgDepth + back / (RATE / 1000) > this.targetMs) return;
    this.jump(-back);
    this.curFrame = Math.floor((Math.floor(this.pos) + 2) / this.fs); // entered before: not again
    this.counters.stretched++;
    this.stretchedMs += back / (RATE / 1000);
    this.avgDepth += back / (RATE / 1000);
  }

  // How far the average depth may stray from the target before a cut or a
  // repeat; closer in, the resampler alone steers.
  get band() {
    return Math.max(5, this.frameMs / 4);
  }

  // Whether real frames (neither missing nor concealed) cover `behind`
  // samples before the playhead to `ahead` samples after it.
  realAround(behind, ahead) {
    const at = Math.floor(this.pos);
    if (at - behind - 4 < 0 || at + ahead > (this.newest + 1) * this.fs) return false;
    for (let f = Math.floor((at - behind - 4) / this.fs); f <= Math.floor((at + ahead) / this.fs); f++) {
      if (this.kindOf(f) !== KIND_REAL) return false;
    }
    return true;
  }

  // Move the playhead by n stream samples (back where n < 0), crossfading
  // from where it was.
  jump(n) {
    this.xfadePos = this.pos;
    this.xfade = FADE;
    this.pos += n;
    this.cooldown = this.fs;
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
    if (this.state === 'playing' && this.xfade === 0 && this.cooldown <= 0) {
      this.accelerate();
      if (this.xfade === 0) this.stretch();
    }
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
      this.resampledMs += (step - this.baseStep) / (RATE / 1000);
    }
    for (let c = this.channels; c < out.length; c++) out[c].set(out[this.channels - 1].subarray(0, n));
    this.cooldown -= n;
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
    const dtMs = (n * 1000) / this.outRate;
    this.bumpMs -= this.bumpMs * Math.min(1, dtMs / RELEASE_MS);
    if (this.state !== 'playing') {
      this.adj = this.drift;
      return;
    }
    const depth = this.depthMs;
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

  // The figures into a preallocated array at the positions `at` names.
  writeStats(values, at) {
    values[at.playing] = this.state === 'playing' ? 1 : 0;
    for (let i = 0; i < COUNTERS.length; i++) {
      if (at[COUNTERS[i]] !== undefined) values[at[COUNTERS[i]]] = this.counters[COUNTERS[i]];
    }
    values[at.acceleratedMs] = this.acceleratedMs;
    values[at.stretchedMs] = this.stretchedMs;
    values[at.resampledMs] = this.resampledMs;
    values[at.depthMs] = this.depthMs;
    values[at.avgDepthMs] = this.avgDepth ?? 0;
    values[at.targetMs] = this.targetMs;
    values[at.jitterMs] = this.jitterMs + this.bumpMs;
    values[at.rate] = 1 + this.adj;
  }

  stats() {
    return {
      state: this.state,
      depthMs: this.depthMs,
      avgDepthMs: this.avgDepth ?? 0,
      targetMs: this.targetMs,
      jitterMs: this.jitterMs + this.bumpMs,
      rate: 1 + this.adj,
      acceleratedMs: this.acceleratedMs,
      stretchedMs: this.stretchedMs,
      resampledMs: this.resampledMs,
      ...this.counters,
    };
  }
}

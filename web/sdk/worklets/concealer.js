// Packet-loss concealment for the jitter buffer: a missing frame is filled by
// repeating the last pitch period of what was heard, fading out over a few
// frames; the next real frame is crossfaded in from that repetition so the
// join does not click. Runs on the audio rendering thread; allocates only
// when constructed.
const MASK = (1 << 16) - 1; // the jitter buffer's ring
const FADE = 96; // crossfade into the next real frame (2 ms)
const GAINS = [1, 0.6, 0.3, 0.1, 0]; // level at the start of each concealed frame in a run
const MIN_PERIOD = 120; // 2.5 ms: pitch up to 400 Hz
const MAX_PERIOD = 720; // 15 ms
const WINDOW = 480; // samples compared when looking for the period

export class Concealer {
  constructor(channels, frameSamples) {
    this.channels = channels;
    this.fs = frameSamples;
    this.template = Array.from({ length: channels }, () => new Float32Array(MAX_PERIOD));
    this.period = MAX_PERIOD;
    this.phase = 0; // position in the template where the last fill stopped
    this.endGain = 0; // gain the last fill ended at
  }

  // The lag in [MIN_PERIOD, MAX_PERIOD] at which the audio before `at` best
  // matches itself (normalised correlation, every other sample and lag).
  findPeriod(plane, at) {
    let best = MAX_PERIOD;
    let bestScore = 0;
    for (let lag = MIN_PERIOD; lag <= MAX_PERIOD; lag += 2) {
      let xy = 0;
      let yy = 0;
      for (let i = 0; i < WINDOW; i += 2) {
        const x = plane[(at - WINDOW + i) & MASK];
        const y = plane[(at - WINDOW + i - lag) & MASK];
        xy += x * y;
        yy += y * y;
      }
      const score = yy > 1e-9 ? xy / Math.sqrt(yy) : 0;
      if (score > bestScore) {
        bestScore = score;
        best = lag;
      }
    }
    return best;
  }

  // Fill [at, at + frame) of every plane; run counts the concealed frames
  // just before this one.
  fill(ring, at, run) {
    if (run === 0) {
      this.period = this.findPeriod(ring[0], at);
      for (let c = 0; c < this.channels; c++) {
        for (let i = 0; i < this.period; i++) this.template[c][i] = ring[c][(at - this.period + i) & MASK];
      }
      this.phase = 0;
    }
    const g0 = GAINS[Math.min(run, GAINS.length - 1)];
    const g1 = GAINS[Math.min(run + 1, GAINS.length - 1)];
    let phase = this.phase;
    for (let i = 0; i < this.fs; i++) {
      const g = g0 + ((g1 - g0) * i) / this.fs;
      for (let c = 0; c < this.channels; c++) ring[c][(at + i) & MASK] = this.template[c][phase] * g;
      if (++phase >= this.period) phase = 0;
    }
    this.phase = phase;
    this.endGain = g1;
  }

  // A real frame was stored at `at` right after a concealed one: fade from
  // the continued repetition into it.
  blendInto(ring, at) {
    let phase = this.phase;
    for (let i = 0; i < FADE; i++) {
      const w = i / FADE;
      for (let c = 0; c < this.channels; c++) {
        const k = (at + i) & MASK;
        ring[c][k] = ring[c][k] * w + this.template[c][phase] * this.endGain * (1 - w);
      }
      if (++phase >= this.period) phase = 0;
    }
  }
}

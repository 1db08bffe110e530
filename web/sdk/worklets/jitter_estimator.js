// How late frames arrive compared with the earliest one of the last seconds:
// the jitter buffer's target follows it. It rises at once and falls slowly,
// so one quiet moment does not undo what a burst of late frames taught.
const CAPACITY = 512;
const WINDOW_MS = 3000;
const RELEASE_MS = 8000; // time constant of the fall

export class JitterEstimator {
  constructor(frameMs) {
    this.frameMs = frameMs;
    this.transit = new Float64Array(CAPACITY);
    this.at = new Float64Array(CAPACITY);
    this.scratch = new Float64Array(CAPACITY);
    this.reset();
  }

  reset() {
    this.rebase();
    this.jitterMs = 0;
  }

  // Frame numbers restart: drop the history, keep the estimate.
  rebase() {
    this.count = 0;
    this.head = 0;
    this.lastMs = null;
  }

  // Frame `frame` (numbered from the start of the stream) arrived at nowMs.
  add(frame, nowMs) {
    this.transit[this.head] = nowMs - frame * this.frameMs;
    this.at[this.head] = nowMs;
    this.head = (this.head + 1) % CAPACITY;
    this.count = Math.min(this.count + 1, CAPACITY);
    let n = 0;
    for (let i = 0; i < this.count; i++) {
      if (this.at[i] >= nowMs - WINDOW_MS) this.scratch[n++] = this.transit[i];
    }
    const recent = this.scratch.subarray(0, n).sort();
    // The second latest, so that one straggler does not set the target.
    const spread = n > 20 ? recent[n - 2] - recent[0] : recent[n - 1] - recent[0];
    const dt = this.lastMs === null ? 0 : nowMs - this.lastMs;
    this.lastMs = nowMs;
    if (spread > this.jitterMs) this.jitterMs = spread;
    else this.jitterMs += (spread - this.jitterMs) * Math.min(1, dt / RELEASE_MS);
  }

  // An underrun: the estimate was too low.
  bump(ms) {
    this.jitterMs = Math.min(200, this.jitterMs + ms);
  }
}

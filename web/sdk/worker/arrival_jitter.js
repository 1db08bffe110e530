// How unevenly the room's frames arrive, measured where they arrive (the
// worker, which no page script delays) against the capture stamp `t` each
// frame carries: how much later than the earliest of the last seconds the
// latest 1 % of frames come. The playout target follows it. It rises at once
// and falls slowly; a single stall of the network or the machine is not
// enough to raise it, only lateness that keeps coming. An outage (nothing
// for a while, then the backlog at once) is left out: the player conceals
// it and sheds the backlog, and it says little about the usual unevenness.
const CAPACITY = 2048; // arrivals kept: more than a window of 10 ms frames
const WINDOW_MS = 10000;
const QUANTILE = 0.99;
const MAX_TOP = 32; // the latest arrivals kept while scanning the window
const RELEASE_MS = 4000; // time constant of the fall
const SETTLE_MS = 500; // a (re)started stream arrives in a burst: not jitter
const JUMP_MS = 1000; // a transit that moves this much is a new clock, not jitter
const STALL_MS = 120; // no frame for this long: an outage, not jitter
const BURST_MS = 2; // frames this close together are the backlog after one

export class ArrivalJitter {
  constructor() {
    this.transit = new Float64Array(CAPACITY);
    this.at = new Float64Array(CAPACITY);
    this.top = new Float64Array(MAX_TOP); // descending
    this.jitterMs = 0;
    this.lastTransit = 0;
    this.lastArrival = -Infinity;
    this.inBurst = false;
    this.rebase(0);
  }

  // The stream starts over (connect, or a jump in seq or t): forget the
  // history, keep the estimate.
  rebase(nowMs) {
    this.count = 0;
    this.head = 0;
    this.lastMs = null;
    this.settleUntil = nowMs + SETTLE_MS;
  }

  // Learn nothing until the next rebase(): this thread is about to be held
  // up by work of its own (loading a decoder), which is not the network's.
  hold() {
    this.settleUntil = Infinity;
  }

  // A frame captured at t (ms since the epoch, the server's clock) arrived at
  // nowMs (this device's clock). Returns now - t.
  add(t, nowMs) {
    const transit = nowMs - t;
    if (this.count > 0 && Math.abs(transit - this.lastTransit) > JUMP_MS) this.rebase(nowMs);
    this.lastTransit = transit;
    const gap = nowMs - this.lastArrival;
    this.lastArrival = nowMs;
    if (gap > STALL_MS) this.inBurst = true;
    else if (gap > BURST_MS) this.inBurst = false;
    if (nowMs < this.settleUntil || this.inBurst) return transit;
    this.transit[this.head] = transit;
    this.at[this.head] = nowMs;
    this.head = (this.head + 1) % CAPACITY;
    this.count = Math.min(this.count + 1, CAPACITY);
    const spread = this.spread(nowMs);
    const dt = this.lastMs === null ? 0 : nowMs - this.lastMs;
    this.lastMs = nowMs;
    if (spread > this.jitterMs) this.jitterMs = spread;
    else this.jitterMs += (spread - this.jitterMs) * Math.min(1, dt / RELEASE_MS);
    return transit;
  }

  // The window's quantile transit minus its earliest, in one pass that keeps
  // the k latest in a small sorted array.
  spread(nowMs) {
    let n = 0;
    for (let i = 0; i < this.count; i++) if (this.at[i] >= nowMs - WINDOW_MS) n++;
    const k = Math.min(MAX_TOP, Math.max(1, Math.ceil(n * (1 - QUANTILE))));
    const top = this.top;
    top.fill(-Infinity, 0, k);
    let min = Infinity;
    for (let i = 0; i < this.count; i++) {
      if (this.at[i] < nowMs - WINDOW_MS) continue;
      const v = this.transit[i];
      if (v < min) min = v;
      if (v <= top[k - 1]) continue;
      let j = k - 1;
      while (j > 0 && top[j - 1] < v) {
        top[j] = top[j - 1];
        j--;
      }
      top[j] = v;
    }
    return n === 0 ? 0 : top[k - 1] - min;
  }
}

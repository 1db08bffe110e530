// A single-producer, single-consumer ring of audio frames in a
// SharedArrayBuffer: the worker writes decoded frames that the playout
// worklet reads, and the capture worklet writes microphone frames that the
// worker reads. Indices run freely and are published with Atomics after the
// data, so neither side ever waits for the other. Nothing is allocated after
// construction: the audio rendering thread may use every method.
const WRITE = 0;
const READ = 1;
const CTRL_BYTES = 16;
export const META = 4; // numbers per slot beside the samples, their meaning the user's

export class FrameRing {
  static bytes(slots, channels, samples) {
    return CTRL_BYTES + slots * META * 8 + slots * channels * samples * 4;
  }

  // slots: a power of two. Make one with a new SharedArrayBuffer; open the
  // same ring on another thread from its `layout`.
  static create(slots, channels, samples) {
    const buffer = new SharedArrayBuffer(FrameRing.bytes(slots, channels, samples));
    return new FrameRing({ buffer, slots, channels, samples });
  }

  constructor({ buffer, slots, channels, samples }) {
    this.layout = { buffer, slots, channels, samples };
    this.slots = slots;
    this.mask = slots - 1;
    this.channels = channels;
    this.samples = samples;
    this.ctrl = new Int32Array(buffer, 0, 2);
    this.meta = new Float64Array(buffer, CTRL_BYTES, slots * META);
    const data = new Float32Array(buffer, CTRL_BYTES + slots * META * 8, slots * channels * samples);
    // planes[slot][channel]: views made once, handed out without copying.
    this.planes = Array.from({ length: slots }, (_, s) =>
      Array.from({ length: channels }, (_, c) => data.subarray((s * channels + c) * samples, (s * channels + c + 1) * samples)),
    );
  }

  // Producer: the slot to fill next, or -1 while the ring is full.
  reserve() {
    const w = Atomics.load(this.ctrl, WRITE);
    if (((w - Atomics.load(this.ctrl, READ)) | 0) >= this.slots) return -1;
    return w & this.mask;
  }

  // Producer: publish the reserved slot and wake a consumer waiting for it.
  commit() {
    Atomics.add(this.ctrl, WRITE, 1);
    Atomics.notify(this.ctrl, WRITE);
  }

  // Consumer: the oldest filled slot, or -1 when there is none.
  peek() {
    const r = Atomics.load(this.ctrl, READ);
    return r === Atomics.load(this.ctrl, WRITE) ? -1 : r & this.mask;
  }

  // Consumer: done with the slot peek() gave.
  release() {
    Atomics.add(this.ctrl, READ, 1);
  }

  // Consumer (not on the audio thread): resolves when a slot may be ready.
  // Atomics.waitAsync where the browser has it, else a short poll.
  whenReady(timeoutMs) {
    const w = Atomics.load(this.ctrl, WRITE);
    if (w !== Atomics.load(this.ctrl, READ)) return Promise.resolve();
    if (typeof Atomics.waitAsync === 'function') {
      const wait = Atomics.waitAsync(this.ctrl, WRITE, w, timeoutMs);
      return wait.async ? wait.value : Promise.resolve();
    }
    return new Promise((resolve) => setTimeout(resolve, 5));
  }
}

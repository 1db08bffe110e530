// Figures that one thread writes and another reads, kept as one
// Float64Array. Where the page is cross-origin isolated it lives in shared
// memory: the reader sees it at once, with no message and no allocation on
// the writer's side. Otherwise it is a private array the writer posts now and
// then. A version word, odd while a write is under way, lets the reader take
// a consistent copy without a lock.

// The playout worklet's figures (audio rendering thread).
export const PLAYOUT_FIELDS = [
  'playing', 'played', 'concealed', 'late', 'dropped', 'underruns', 'resyncs', 'accelerated', 'acceleratedMs',
  'stretched', 'stretchedMs', 'resampledMs', 'depthMs', 'avgDepthMs', 'targetMs', 'jitterMs', 'rate', 'ctxTime', 'headT',
];

// The worker's figures: the connection's frames and the microphone.
export const WORKER_FIELDS = [
  'received', 'lost', 'decoded', 'decodeErrors', 'ringDrops', 'arrivalMs', 'jitterMs', 'micPackets', 'micDropped',
];

// Field name -> position, for writers that must not look names up per frame.
export function indexOf(fields) {
  return Object.freeze(Object.fromEntries(fields.map((name, i) => [name, i])));
}

export class StatsBlock {
  static create(fields, shared) {
    const bytes = 8 + 8 * fields.length;
    return new StatsBlock(fields, shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
  }

  constructor(fields, buffer) {
    this.fields = fields;
    this.buffer = buffer;
    this.shared = typeof SharedArrayBuffer === 'function' && buffer instanceof SharedArrayBuffer;
    this.version = new Int32Array(buffer, 0, 1);
    this.values = new Float64Array(buffer, 8, fields.length);
  }

  // Writer: bracket a group of stores.
  begin() {
    Atomics.add(this.version, 0, 1);
  }

  end() {
    Atomics.add(this.version, 0, 1);
  }

  // Reader: replace the values with a copy the writer posted.
  assign(values) {
    this.values.set(values);
  }

  // Reader: a consistent copy as an object.
  read() {
    const out = {};
    for (let attempt = 0; attempt < 8; attempt++) {
      const before = Atomics.load(this.version, 0);
      if (before & 1) continue;
      this.fields.forEach((name, i) => {
        out[name] = this.values[i];
      });
      if (Atomics.load(this.version, 0) === before) break;
    }
    return out;
  }
}

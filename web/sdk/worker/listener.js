// The room's `audio` events in the worker: counted (gaps in seq are losses),
// timed against their capture stamp as they arrive (the jitter the playout
// target follows), and, while the page listens, decoded and handed to the
// playout worklet.
import { createDecoder } from './opus_decoder.js';
import { PlayoutSink } from './playout_sink.js';
import { ArrivalJitter } from './arrival_jitter.js';

const RATE = 48000;

export class Listener {
  // stats: the worker's StatsBlock values and their positions; onError(err).
  constructor(values, at, onError) {
    this.values = values;
    this.at = at;
    this.onError = onError;
    this.jitter = new ArrivalJitter();
    this.lastSeq = null;
    this.gen = 0; // start() and stop() calls, so a slow start knows it was overtaken
    this.decoder = null;
    this.sink = null;
  }

  // A new connection: the stream starts over.
  restart() {
    this.lastSeq = null;
    this.jitter.rebase(nowMs());
    this.sink?.reset();
  }

  receive(meta, data) {
    const now = nowMs();
    const { values, at } = this;
    values[at.received]++;
    const seq = meta?.seq;
    const t = meta?.t;
    if (typeof seq !== 'number' || typeof t !== 'number' || !(data instanceof ArrayBuffer)) return;
    if (this.lastSeq !== null && seq > this.lastSeq + 1 && seq - this.lastSeq < 1000) {
      values[at.lost] += seq - this.lastSeq - 1;
    }
    // A jump either way is a new stream (the server restarted): new history.
    if (this.lastSeq !== null && (seq <= this.lastSeq || seq - this.lastSeq >= 1000)) this.jitter.rebase(now);
    this.lastSeq = seq;
    values[at.arrivalMs] = this.jitter.add(t, now);
    values[at.jitterMs] = this.jitter.jitterMs;
    if (!this.decoder) return;
    try {
      this.decoder.decode(seq, t, new Uint8Array(data));
    } catch (err) {
      values[at.decodeErrors]++;
      this.onError(err);
    }
  }

  // Start decoding for the playout worklet: target is its ring or port.
  async start({ target, channels, frameMs, prefer, wasmUrl }) {
    this.stop();
    const gen = this.gen;
    const sink = new PlayoutSink(target, channels, (RATE * frameMs) / 1000);
    // Loading the decoder holds this thread up: not the network's doing.
    this.jitter.hold();
    let decoder;
    try {
      decoder = await createDecoder({
        channels,
        frameMs,
        prefer,
        wasmUrl,
        onFrame: (seq, t, source, n) => {
          this.values[this.at.decoded]++;
          sink.write(seq, t, this.jitter.jitterMs, source, n);
          this.values[this.at.ringDrops] = sink.drops;
        },
        onError: (err) => {
          this.values[this.at.decodeErrors]++;
          this.onError(err);
        },
      });
    } finally {
      this.jitter.rebase(nowMs());
    }
    if (gen !== this.gen) {
      decoder.close(); // stopped or started again while the decoder loaded
      return null;
    }
    this.sink = sink;
    this.decoder = decoder;
    return decoder.kind;
  }

  stop() {
    this.gen++;
    this.decoder?.close();
    this.sink?.close();
    this.decoder = null;
    this.sink = null;
  }
}

// This device's clock in ms since the epoch, finer than Date.now().
export function nowMs() {
  return performance.timeOrigin + performance.now();
}

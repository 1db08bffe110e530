// The microphone in the worker: reads the capture worklet's 20 ms frames
// (from the shared FrameRing, or as pooled buffers on a port that go back
// after use), reports the level to the page, and while the server has
// granted `talk` encodes them to Opus and sends them as `mic` events.
import { FrameRing, META } from '../shared/frame_ring.js';
import { createEncoder } from './opus_encoder.js';

const LEVEL_EVERY_MS = 50; // the page's meter needs no more

export class Talker {
  // emit(packet): send one packet; post(message): to the page.
  constructor(values, at, emit, post) {
    this.values = values;
    this.at = at;
    this.emit = emit;
    this.post = post;
    this.sending = false;
    this.open = false;
    this.lastIndex = null;
    this.levelPeak = 0;
    this.levelAt = 0;
  }

  // source: {ring: a FrameRing layout} or {port}; frameSamples per frame.
  async start({ source, frameSamples }) {
    const encoder = await createEncoder({
      onPacket: (packet) => {
        if (!this.sending) return;
        this.values[this.at.micPackets]++;
        this.emit(packet);
      },
      onError: (err) => this.post({ type: 'mic_error', message: err.message }),
    });
    this.encoder = encoder;
    this.pcm = new Float32Array(frameSamples); // the encoder's private copy
    this.open = true;
    if (source.ring) {
      this.ring = new FrameRing(source.ring);
      this.readRing();
    } else {
      this.port = source.port;
      this.port.onmessage = (event) => {
        const buffer = event.data;
        this.frame(buffer.subarray(0, frameSamples), buffer[frameSamples], buffer[frameSamples + 1]);
        if (this.open) this.port.postMessage(buffer, [buffer.buffer]); // back to the pool
      };
    }
  }

  async readRing() {
    const ring = this.ring;
    while (this.open && this.ring === ring) {
      await ring.whenReady(200);
      for (let slot = ring.peek(); slot >= 0 && this.ring === ring; slot = ring.peek()) {
        this.frame(ring.planes[slot][0], ring.meta[slot * META], ring.meta[slot * META + 1]);
        ring.release();
      }
    }
  }

  frame(samples, peak, index) {
    if (this.lastIndex !== null) this.values[this.at.micDropped] += (index - this.lastIndex - 1) & 0xffffff;
    this.lastIndex = index;
    this.levelPeak = Math.max(this.levelPeak, peak);
    const now = performance.now();
    if (now - this.levelAt >= LEVEL_EVERY_MS) {
      this.post({ type: 'mic_level', db: this.levelPeak > 0 ? 20 * Math.log10(this.levelPeak) : -120 });
      this.levelAt = now;
      this.levelPeak = 0;
    }
    if (!this.sending) return;
    this.pcm.set(samples);
    this.encoder.encode(this.pcm);
  }

  close() {
    this.open = false;
    this.sending = false;
    this.encoder?.close();
    this.port?.close();
    this.encoder = this.port = this.ring = null;
  }
}

// AudioWorklet processor (audio rendering thread) that cuts the microphone
// into 20 ms frames (48 kHz mono: the first input channel) for the worker's
// Opus encoder, each with its peak level. Frames go straight into a FrameRing
// slot in shared memory; where the page is not cross-origin isolated, into
// buffers from a small pool that travel to the worker on a port and come
// back. Nothing is allocated per frame; with no free slot or buffer a frame
// is dropped; the frames' numbers tell the reader.
import { FrameRing, META } from '../shared/frame_ring.js';

const POOL = 8;

class CaptureProcessor extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const o = options.processorOptions;
    this.frameSamples = o.frameSamples;
    this.ring = o.ring ? new FrameRing(o.ring) : null;
    this.scratch = new Float32Array(this.frameSamples + 2); // a frame with nowhere to go
    this.count = 0; // frames cut, numbered so that the reader sees drops
    this.pool = [];
    this.fill = 0;
    this.peak = 0;
    this.frame = null;
    this.slot = -1;
    if (!this.ring) {
      // Pooled buffers carry the peak and the number after the samples.
      for (let i = 0; i < POOL; i++) this.pool.push(new Float32Array(this.frameSamples + 2));
      this.port.onmessage = (event) => {
        this.out = event.data.port;
        this.out.onmessage = (message) => this.pool.push(message.data);
      };
    }
  }

  // Where the next frame's samples go.
  open() {
    if (this.ring) {
      this.slot = this.ring.reserve();
      this.frame = this.slot >= 0 ? this.ring.planes[this.slot][0] : this.scratch;
    } else {
      this.frame = (this.out && this.pool.pop()) || this.scratch;
    }
  }

  close() {
    if (this.ring) {
      if (this.slot >= 0) {
        this.ring.meta[this.slot * META] = this.peak;
        this.ring.meta[this.slot * META + 1] = this.count;
        this.ring.commit();
      }
    } else if (this.frame !== this.scratch) {
      this.frame[this.frameSamples] = this.peak;
      this.frame[this.frameSamples + 1] = this.count;
      this.out.postMessage(this.frame, [this.frame.buffer]);
    }
    this.count = (this.count + 1) & 0xffffff; // exact in a float
    this.frame = null;
    this.fill = 0;
    this.peak = 0;
  }

  process(inputs) {
    const input = inputs[0];
    if (!input || input.length === 0) return true;
    const samples = input[0];
    for (let i = 0; i < samples.length; i++) {
      if (this.frame === null) this.open();
      const v = samples[i];
      this.frame[this.fill++] = v;
      const a = v < 0 ? -v : v;
      if (a > this.peak) this.peak = a;
      if (this.fill === this.frameSamples) this.close();
    }
    return true;
  }
}

registerProcessor('clubvoice-capture', CaptureProcessor);

// AudioWorklet processor (audio rendering thread) that plays the room
// through the jitter buffer. The worker sends the decoded frames: through a
// FrameRing in shared memory, drained at every render quantum, or, where the
// page is not cross-origin isolated, as messages on a port whose other end
// it holds. The figures go into a StatsBlock: shared memory the page reads
// when it likes, or a private array posted ten times a second. Nothing is
// allocated per frame or per report.
import { FrameRing, META } from '../shared/frame_ring.js';
import { FRAME, JITTER, KIND, RESET, SEQ, T } from '../shared/playout_frames.js';
import { PLAYOUT_FIELDS, StatsBlock, indexOf } from '../shared/stats_block.js';
import { JitterBuffer } from './jitter_buffer.js';

const AT = indexOf(PLAYOUT_FIELDS);

class PlayoutProcessor extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const o = options.processorOptions;
    this.jb = new JitterBuffer({ ...o.buffer, outRate: sampleRate });
    this.ring = o.ring ? new FrameRing(o.ring) : null;
    this.stats = new StatsBlock(PLAYOUT_FIELDS, o.stats ?? new ArrayBuffer(8 + 8 * PLAYOUT_FIELDS.length));
    this.nextPost = 0;
    // Without shared memory: the port the worker's frames come on.
    this.port.onmessage = (event) => {
      event.data.port.onmessage = (message) => this.message(message.data);
    };
  }

  message({ kind, seq, t, jitterMs, planes }) {
    if (kind === RESET) this.jb.reset();
    else this.jb.push(seq, t, planes, jitterMs);
  }

  drain() {
    const ring = this.ring;
    for (let slot = ring.peek(); slot >= 0; slot = ring.peek()) {
      const at = slot * META;
      if (ring.meta[at + KIND] === FRAME) {
        this.jb.push(ring.meta[at + SEQ], ring.meta[at + T], ring.planes[slot], ring.meta[at + JITTER]);
      } else {
        this.jb.reset();
      }
      ring.release();
    }
  }

  process(_inputs, outputs) {
    if (this.ring) this.drain();
    const out = outputs[0];
    // Capture time of what this quantum starts with, for the latency figure.
    const headT = this.jb.headCaptureT();
    const ctxTime = currentTime;
    this.jb.render(out, out[0].length);
    const stats = this.stats;
    stats.begin();
    this.jb.writeStats(stats.values, AT);
    stats.values[AT.ctxTime] = ctxTime;
    stats.values[AT.headT] = headT;
    stats.end();
    if (!stats.shared && ctxTime >= this.nextPost) {
      this.nextPost = ctxTime + 0.1;
      this.port.postMessage(stats.values);
    }
    return true;
  }
}

registerProcessor('clubvoice-playout', PlayoutProcessor);

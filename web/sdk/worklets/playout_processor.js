// AudioWorklet processor (audio rendering thread) that plays the decoded
// room audio through the jitter buffer and reports its figures ten times a
// second. Messages in: {type:'frame', seq, t, planes}, {type:'reset'}.
import { JitterBuffer } from './jitter_buffer.js';

class PlayoutProcessor extends AudioWorkletProcessor {
  constructor(options) {
    super();
    this.options = options.processorOptions;
    this.jb = new JitterBuffer({ ...this.options, outRate: sampleRate });
    this.nextReport = 0;
    this.port.onmessage = (event) => this.receive(event.data);
  }

  receive(message) {
    if (message.type === 'frame') this.jb.push(message.seq, message.t, message.planes, currentTime * 1000);
    else if (message.type === 'reset') this.jb.reset();
  }

  process(_inputs, outputs) {
    const out = outputs[0];
    // Capture time of what this quantum starts with, for the latency figure.
    const headT = this.jb.headCaptureT();
    const ctxTime = currentTime;
    this.jb.render(out, out[0].length);
    if (ctxTime >= this.nextReport) {
      this.nextReport = ctxTime + 0.1;
      this.port.postMessage({ type: 'stats', ctxTime, headT, ...this.jb.stats() });
    }
    return true;
  }
}

registerProcessor('clubvoice-playout', PlayoutProcessor);

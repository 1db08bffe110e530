// AudioWorklet processor (audio rendering thread) that cuts the microphone
// into frames for the Opus encoder (20 ms at 48 kHz, mono: the first input
// channel) and posts each with its peak level.
class CaptureProcessor extends AudioWorkletProcessor {
  constructor(options) {
    super();
    this.frameSamples = options.processorOptions.frameSamples;
    this.frame = new Float32Array(this.frameSamples);
    this.fill = 0;
    this.peak = 0;
  }

  process(inputs) {
    const input = inputs[0];
    if (!input || input.length === 0) return true;
    const samples = input[0];
    for (let i = 0; i < samples.length; i++) {
      const v = samples[i];
      this.frame[this.fill++] = v;
      const a = v < 0 ? -v : v;
      if (a > this.peak) this.peak = a;
      if (this.fill === this.frameSamples) {
        this.port.postMessage({ pcm: this.frame, peak: this.peak }, [this.frame.buffer]);
        this.frame = new Float32Array(this.frameSamples);
        this.fill = 0;
        this.peak = 0;
      }
    }
    return true;
  }
}

registerProcessor('clubvoice-capture', CaptureProcessor);

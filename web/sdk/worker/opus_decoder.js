// Opus packets to PCM (the room worker): WebCodecs' AudioDecoder where the
// browser has it, otherwise the WebAssembly decoder of the opus-decoder
// package, which the build copies to vendor/ and which is loaded on demand.
// onFrame(seq, t, source, samples) gets either an AudioData (closed after the
// call) or an array of Float32Array planes; the caller copies what it needs.
const RATE = 48000;

export async function createDecoder({ channels, frameMs, prefer = 'auto', wasmUrl, onFrame, onError }) {
  if (prefer !== 'wasm' && typeof AudioDecoder === 'function') {
    const config = { codec: 'opus', sampleRate: RATE, numberOfChannels: channels };
    const support = await AudioDecoder.isConfigSupported(config).catch(() => ({ supported: false }));
    if (support.supported) return new WebCodecsDecoder(config, frameMs, onFrame, onError);
  }
  return WasmDecoder.create(channels, wasmUrl, onFrame, onError);
}

class WebCodecsDecoder {
  constructor(config, frameMs, onFrame, onError) {
    this.kind = 'webcodecs';
    this.config = config;
    this.frameUs = frameMs * 1000;
    this.onFrame = onFrame;
    this.onError = onError;
    this.pending = new Map(); // chunk timestamp -> {seq, t}
    this.open();
  }

  open() {
    this.decoder = new AudioDecoder({
      output: (data) => this.output(data),
      error: (err) => this.onError(err),
    });
    this.decoder.configure(this.config);
    this.pending.clear();
  }

  decode(seq, t, packet) {
    if (this.decoder.state === 'closed') this.open(); // an error closes it: start afresh
    if (this.decoder.decodeQueueSize > 25) return false; // the page was asleep: let the buffer resync
    const timestamp = seq * this.frameUs; // true stream time, as a decoder would restamp it
    this.pending.set(timestamp, { seq, t });
    this.decoder.decode(new EncodedAudioChunk({ type: 'key', timestamp, data: packet }));
    return true;
  }

  output(data) {
    const meta = this.take(data.timestamp);
    try {
      if (meta) this.onFrame(meta.seq, meta.t, data, data.numberOfFrames);
    } finally {
      data.close();
    }
  }

  // Outputs come in the order of their inputs. An output stamped like an
  // input is that input's (older entries gave none); one the decoder
  // restamped belongs to the oldest input waiting.
  take(timestamp) {
    const exact = this.pending.has(timestamp);
    for (const [key, entry] of this.pending) {
      this.pending.delete(key);
      if (!exact || key === timestamp) return entry;
    }
    return null;
  }

  close() {
    if (this.decoder.state !== 'closed') this.decoder.close();
  }
}

function loadScript(url) {
  try {
    importScripts(url); // a classic worker's way; the script sets a global
  } catch (err) {
    throw new Error(`could not load the Opus decoder from ${url}: ${err.message}`);
  }
}

class WasmDecoder {
  static async create(channels, url, onFrame, onError) {
    if (!globalThis['opus-decoder']) loadScript(url);
    const decoder = new globalThis['opus-decoder'].OpusDecoder({ channels });
    await decoder.ready;
    return new WasmDecoder(decoder, onFrame, onError);
  }

  constructor(decoder, onFrame, onError) {
    this.kind = 'wasm';
    this.decoder = decoder;
    this.onFrame = onFrame;
    this.onError = onError;
  }

  decode(seq, t, packet) {
    const { channelData, samplesDecoded, errors } = this.decoder.decodeFrame(packet);
    if (errors?.length) this.onError(new Error(errors[0].message));
    if (samplesDecoded > 0) this.onFrame(seq, t, channelData, samplesDecoded);
    return true;
  }

  close() {
    this.decoder.free();
  }
}

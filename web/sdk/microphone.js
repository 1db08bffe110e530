// The talker's microphone (main thread): getUserMedia with the browser's echo
// cancellation, noise suppression and gain control, cut into 20 ms frames by
// the capture worklet, encoded to Opus. Frames reach the encoder only while
// `sending` is set; the level is reported all the time the mic is open.
import { createEncoder, opusEncoderAvailable } from './opus_encoder.js';

const CAPTURE_URL = new URL('./worklets/capture_processor.js', import.meta.url);

// Why the microphone could not be opened, for the page to explain.
export class MicError extends Error {
  constructor(kind, message) {
    super(message);
    this.name = 'MicError';
    this.kind = kind; // insecure | unsupported | denied | notfound | busy | failed
  }
}

function micError(err) {
  switch (err?.name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return new MicError('denied', 'microphone permission was refused');
    case 'NotFoundError':
    case 'OverconstrainedError':
      return new MicError('notfound', 'no microphone was found');
    case 'NotReadableError':
    case 'AbortError':
      return new MicError('busy', 'the microphone could not be started');
    default:
      return new MicError('failed', `the microphone failed: ${err?.message ?? err}`);
  }
}

export class Microphone {
  constructor(ctx, { onPacket, onLevel, onError }) {
    this.ctx = ctx;
    this.onPacket = onPacket;
    this.onLevel = onLevel;
    this.onError = onError;
    this.sending = false;
  }

  async open() {
    if (!globalThis.isSecureContext || !navigator.mediaDevices?.getUserMedia) {
      throw new MicError('insecure', 'the microphone needs a secure page (https or localhost)');
    }
    if (!opusEncoderAvailable()) throw new MicError('unsupported', 'this browser cannot encode Opus');
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true, channelCount: 1 },
      });
    } catch (err) {
      throw micError(err);
    }
    try {
      this.encoder = await createEncoder({ onPacket: this.onPacket, onError: this.onError });
    } catch (err) {
      this.close();
      throw new MicError('unsupported', err.message);
    }
    await this.ctx.audioWorklet.addModule(CAPTURE_URL);
    this.source = this.ctx.createMediaStreamSource(this.stream);
    this.node = new AudioWorkletNode(this.ctx, 'clubvoice-capture', {
      numberOfInputs: 1,
      numberOfOutputs: 0,
      channelCount: 1,
      channelCountMode: 'explicit',
      processorOptions: { frameSamples: (this.ctx.sampleRate * 20) / 1000 },
    });
    this.node.port.onmessage = (event) => this.frame(event.data);
    this.source.connect(this.node);
    for (const track of this.stream.getAudioTracks()) {
      track.onended = () => this.onError(new MicError('busy', 'the microphone stopped'));
    }
  }

  frame({ pcm, peak }) {
    this.onLevel(peak > 0 ? 20 * Math.log10(peak) : -120);
    if (this.sending) this.encoder.encode(pcm);
  }

  close() {
    this.sending = false;
    this.source?.disconnect();
    if (this.node) this.node.port.onmessage = null;
    this.encoder?.close();
    for (const track of this.stream?.getTracks() ?? []) track.stop();
    this.stream = this.source = this.node = this.encoder = null;
  }
}

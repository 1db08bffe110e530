// The talker's microphone on the page (main thread): getUserMedia with the
// browser's echo cancellation, noise suppression and gain control, and the
// capture worklet that cuts it into 20 ms frames. The frames go straight to
// the room worker, which encodes and sends them (a FrameRing in shared
// memory, or a MessageChannel); the page only sees the level.
import { FrameRing } from './shared/frame_ring.js';
import { sharedMemory } from './player.js';

const CAPTURE_URL = new URL('./worklets/capture_processor.js', import.meta.url);
const FRAME_SAMPLES = 960; // 20 ms at 48 kHz

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
  // link: the RoomLink; onError(err) when the microphone stops by itself.
  constructor(ctx, link, onError) {
    this.ctx = ctx;
    this.link = link;
    this.onError = onError;
  }

  async open() {
    if (!globalThis.isSecureContext || !navigator.mediaDevices?.getUserMedia) {
      throw new MicError('insecure', 'the microphone needs a secure page (https or localhost)');
    }
    if (typeof AudioEncoder !== 'function') throw new MicError('unsupported', 'this browser cannot encode Opus');
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true, channelCount: 1 },
      });
    } catch (err) {
      throw micError(err);
    }
    let source;
    let workletPort = null;
    if (sharedMemory()) {
      source = { ring: FrameRing.create(16, 1, FRAME_SAMPLES).layout };
    } else {
      const channel = new MessageChannel();
      source = { port: channel.port1 };
      workletPort = channel.port2;
    }
    try {
      await this.link.ask('mic', { source, frameSamples: FRAME_SAMPLES }, source.port ? [source.port] : []);
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
      processorOptions: { frameSamples: FRAME_SAMPLES, ring: source.ring },
    });
    if (workletPort) this.node.port.postMessage({ port: workletPort }, [workletPort]);
    this.source.connect(this.node);
    for (const track of this.stream.getAudioTracks()) {
      track.onended = () => this.onError(new MicError('busy', 'the microphone stopped'));
    }
  }

  set sending(on) {
    this.link.send('sending', { on });
  }

  close() {
    this.link.send('unmic');
    this.source?.disconnect();
    this.node?.disconnect();
    for (const track of this.stream?.getTracks() ?? []) track.stop();
    this.stream = this.source = this.node = null;
  }
}

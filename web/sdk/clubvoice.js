// The clubvoice browser SDK: connect to a clubvoiced room over Socket.IO,
// listen to it, talk back, and read the figures. Runs on the page's main
// thread; the sound itself is handled by AudioWorklets.
//
//   import { connect } from './clubvoice.js';
//   const room = connect(undefined, { name: 'Ann' });
//   room.on('state', (s) => console.log(s)); // connecting | live | reconnecting | refused | closed
//   button.onclick = () => room.listen();     // from a user gesture (autoplay rules)
//   await room.talk(true);                    // -> {granted, holder, reason?}
import { io } from 'socket.io-client';
import { Emitter } from './emitter.js';
import { createDecoder } from './opus_decoder.js';
import { MicError, Microphone } from './microphone.js';
import { Player } from './player.js';

export { MicError };

const WASM_DECODER_URL = new URL('./vendor/opus-decoder.min.js', import.meta.url);

export function connect(url, options) {
  return new ClubVoice(url, options);
}

export class ClubVoice extends Emitter {
  constructor(url, options = {}) {
    super();
    this.options = { decoder: 'auto', minBufferMs: 20, maxBufferMs: 200, ...options };
    this.state = 'connecting';
    this.config = null;
    this.clients = null;
    this.talkState = { talkers: [], floor: null };
    this.listening = false;
    this.talking = false;
    this.wantLevels = false;
    this.counters = { received: 0, lost: 0, decoded: 0, decodeErrors: 0, micPackets: 0 };
    this.lastSeq = null;
    this.micSeq = 0;
    this.volumeValue = 1;
    this.wasLive = false;
    this.socket = io(url, {
      path: this.options.path ?? '/socket.io/',
      auth: this.auth(),
      // Long-polling first, then the upgrade to WebSocket; once a WebSocket
      // has worked, reconnections go straight to one.
      rememberUpgrade: true,
      reconnectionDelay: 500,
      reconnectionDelayMax: 5000,
      randomizationFactor: 0.5,
      timeout: 8000,
    });
    this.wire();
  }

  auth() {
    const auth = {};
    if (this.options.token) auth.token = this.options.token;
    if (this.options.name) auth.name = this.options.name;
    return auth;
  }

  wire() {
    const s = this.socket;
    s.on('connect', () => {
      this.wasLive = true;
      this.lastSeq = null;
      this.player?.reset();
      if (this.wantLevels) s.emit('levels', { on: true });
      this.setState('live');
    });
    s.on('disconnect', (reason) => {
      this.stopTalking();
      if (reason === 'io client disconnect') return this.setState('closed');
      this.setState('reconnecting');
      // A server that drops us on purpose is not retried by the client itself.
      if (reason === 'io server disconnect') setTimeout(() => s.connect(), 1000);
    });
    s.on('connect_error', (err) => {
      if (!s.active) {
        this.refusal = err.message;
        this.setState('refused');
      } else {
        this.setState(this.wasLive ? 'reconnecting' : 'connecting');
      }
    });
    s.on('config', (config) => this.configure(config));
    s.on('clients', ({ count }) => {
      this.clients = count;
      this.emit('clients', count);
    });
    s.on('talk_state', (state) => {
      this.talkState = state;
      this.emit('talk_state', state);
    });
    s.on('levels', (levels) => this.emit('levels', levels));
    s.on('audio', (meta, data) => this.receive(meta, data));
  }

  setState(state) {
    if (state === this.state) return;
    this.state = state;
    this.emit('state', state);
  }

  // The socket id the server knows this client by (talkers and the floor name it).
  get id() {
    return this.socket.id;
  }

  configure(config) {
    const changed = !this.config || config.channels !== this.config.channels || config.frameMs !== this.config.frameMs;
    this.config = config;
    this.clients = config.clients;
    this.emit('config', config);
    this.emit('clients', config.clients);
    if (changed && this.listening) this.startPlayback().catch((err) => this.emit('error', err));
  }

  receive(meta, data) {
    this.counters.received++;
    const seq = meta?.seq;
    if (this.lastSeq !== null && seq > this.lastSeq + 1 && seq - this.lastSeq < 1000) {
      this.counters.lost += seq - this.lastSeq - 1;
    }
    this.lastSeq = seq;
    if (!this.listening || !this.decoder || !this.player) return;
    try {
      this.decoder.decode(seq, meta.t, new Uint8Array(data));
    } catch (err) {
      this.counters.decodeErrors++;
      this.emit('error', err);
    }
  }

  async audioContext() {
    if (!this.ctx) {
      if (!globalThis.isSecureContext || typeof AudioWorkletNode !== 'function') {
        // Browsers offer AudioWorklet (and WebCodecs) only to secure pages.
        throw Object.assign(new Error('sound needs a secure page (https or localhost)'), { kind: 'insecure' });
      }
      // Created inside the user's gesture so that autoplay rules let it run.
      this.ctx = new AudioContext({ sampleRate: 48000, latencyHint: 'interactive' });
      this.gain = this.ctx.createGain();
      this.gain.gain.value = this.volumeValue;
      this.gain.connect(this.ctx.destination);
      this.analyserNode = this.ctx.createAnalyser();
      this.analyserNode.fftSize = 4096;
      this.analyserNode.smoothingTimeConstant = 0.5;
      this.ready = Player.load(this.ctx);
    }
    await this.ready;
    if (this.ctx.state !== 'running') await this.ctx.resume();
    return this.ctx;
  }

  // Start playing the room. Call it from a click or key press.
  async listen() {
    this.listening = true;
    const ready = this.audioContext();
    this.emit('listening', true);
    await ready;
    if (this.config && !this.player) await this.startPlayback();
    this.player?.reset();
  }

  pause() {
    this.listening = false;
    this.player?.reset();
    if (!this.mic && this.ctx?.state === 'running') this.ctx.suspend();
    this.emit('listening', false);
  }

  async startPlayback() {
    const ctx = await this.audioContext();
    const { channels, frameMs } = this.config;
    this.player?.disconnect();
    this.decoder?.close();
    this.player = new Player(ctx, { channels, frameMs, ...this.bufferOptions() });
    this.player.connect(this.gain, this.analyserNode);
    this.decoder = await createDecoder({
      channels,
      frameMs,
      prefer: this.options.decoder,
      wasmUrl: this.options.wasmDecoderUrl ?? WASM_DECODER_URL,
      onFrame: (seq, t, planes) => {
        this.counters.decoded++;
        this.player.push(seq, t, planes);
      },
      onError: (err) => {
        this.counters.decodeErrors++;
        this.emit('error', err);
      },
    });
  }

  bufferOptions() {
    return { minBufferMs: this.options.minBufferMs, maxBufferMs: this.options.maxBufferMs };
  }

  get volume() {
    return this.volumeValue;
  }

  // 0..1; changed smoothly so that a slider does not crackle.
  set volume(value) {
    this.volumeValue = Math.min(1, Math.max(0, Number(value)));
    this.gain?.gain.setTargetAtTime(this.volumeValue, this.ctx.currentTime, 0.02);
  }

  // The decoded room sound, before the volume control.
  get analyser() {
    return this.analyserNode ?? null;
  }

  // Ask for the floor (on) or give it back. Resolves to the server's answer
  // {granted, holder, reason?}; rejects with a MicError when the
  // microphone cannot be opened.
  async talk(on) {
    this.wantTalk = on;
    if (!on) {
      const was = this.talking || this.asking;
      this.stopTalking();
      if (was && this.socket.connected) this.socket.emit('talk', { on: false });
      return { granted: false, holder: null };
    }
    await this.openMic();
    if (!this.wantTalk) return { granted: false, holder: null };
    this.asking = true;
    let answer;
    try {
      answer = await this.socket.timeout(5000).emitWithAck('talk', { on: true });
    } catch {
      answer = { granted: false, holder: null, reason: 'no answer from the server' };
    } finally {
      this.asking = false;
    }
    if (answer?.granted && this.wantTalk && this.socket.connected && this.mic) {
      this.talking = true;
      this.mic.sending = true;
      this.emit('talking', true);
    } else if (answer?.granted) {
      this.socket.emit('talk', { on: false }); // released while we waited
    }
    return answer;
  }

  stopTalking() {
    if (this.mic) this.mic.sending = false;
    if (!this.talking) return;
    this.talking = false;
    this.emit('talking', false);
  }

  // Opens the microphone once; concurrent callers share the attempt, and a
  // failed attempt can be retried.
  openMic() {
    this.micOpening ??= (async () => {
      const ctx = await this.audioContext();
      const mic = new Microphone(ctx, {
        onPacket: (packet) => this.sendMic(packet),
        onLevel: (db) => this.emit('mic_level', db),
        onError: (err) => {
          this.emit('error', err);
          this.closeMic();
        },
      });
      await mic.open();
      this.mic = mic;
    })().catch((err) => {
      this.micOpening = null;
      throw err;
    });
    return this.micOpening;
  }

  closeMic() {
    if (this.talking) this.talk(false);
    this.mic?.close();
    this.mic = null;
    this.micOpening = null;
  }

  sendMic(packet) {
    if (!this.talking) return;
    this.counters.micPackets++;
    // volatile: while the connection is down packets are dropped, not queued.
    this.socket.volatile.emit('mic', { seq: this.micSeq++ }, packet);
  }

  // The name shown to others travels in the CONNECT auth: reconnect with it.
  setName(name) {
    this.options.name = name || undefined;
    this.socket.auth = this.auth();
    if (this.socket.connected) {
      this.socket.disconnect();
      this.socket.connect();
    }
  }

  // Subscribe this socket to the server's `levels` events (the debug page).
  levels(on) {
    this.wantLevels = on;
    if (this.socket.connected) this.socket.emit('levels', { on });
  }

  async getConfig() {
    return this.socket.timeout(5000).emitWithAck('get_config');
  }

  // Figures for the pages and tests: frames received, lost (gaps in seq),
  // decoded, played and concealed; the jitter buffer's depth and target;
  // capture-to-ear latency (needs the server's and this device's clocks in sync).
  stats() {
    const player = this.player?.stats() ?? Player.idleStats();
    return {
      state: this.state,
      listening: this.listening,
      talking: this.talking,
      decoder: this.decoder?.kind ?? null,
      transport: this.socket.io.engine?.transport?.name ?? null,
      ...this.counters,
      ...player,
      outputLatencyMs: this.ctx ? (this.ctx.baseLatency + (this.ctx.outputLatency || 0)) * 1000 : null,
    };
  }

  close() {
    this.closeMic();
    this.player?.disconnect();
    this.decoder?.close();
    this.socket.disconnect();
    this.ctx?.close();
  }
}

// The clubvoice browser SDK: connect to a clubvoiced room over Socket.IO,
// listen to it, talk back, and read the figures. The connection, the
// decoder and the microphone's encoder run in a dedicated worker
// (sdk/worker/room_worker.js) and the sound in AudioWorklets, so the page's
// main thread carries only its own UI: a busy page does not delay a frame.
//
//   import { connect } from './clubvoice.js';
//   const room = connect(undefined, { name: 'Ann', token }); // token: from a share link, if any
//   // or connect(['https://edge1.example', 'https://edge2.example'], options):
//   // one of them, and the next one whenever the connection is lost or refused
//   // by a server that is down or full; room.url is the one in use, 'url' says
//   // when it changes
//   room.on('state', (s) => console.log(s)); // connecting | live | reconnecting | refused | closed
//   // refused: room.refusal is the server's reason ('invalid token', 'a token is needed to listen')
//   room.on('config', (c) => console.log(c.role, c.canTalk)); // listener|talker|admin, may talk
//   button.onclick = () => room.listen();     // from a user gesture (autoplay rules)
//   // connect(url, { playback: 'background' }): play through an <audio> element,
//   // which phones keep playing with the screen locked (sdk/output.js)
//   await room.talk(true);                    // -> {granted, holder, reason?}
import { Emitter } from './emitter.js';
import { MicError, Microphone } from './microphone.js';
import { Output, playbackPath } from './output.js';
import { Player, outputLatencyMs, sharedMemory } from './player.js';
import { RoomLink } from './room_link.js';
import { StatsBlock, WORKER_FIELDS } from './shared/stats_block.js';

export { MicError };

const WASM_DECODER_URL = new URL('./vendor/opus-decoder.min.js', import.meta.url);

// urls: the room's server (its origin), a list of servers serving the same
// room (edges, docs/scaling.md), or nothing for the page's own server.
export function connect(urls, options) {
  return new ClubVoice(urls, options);
}

// The servers in the order they are tried, from a random one on: the
// listeners of a page that lists several edges spread over all of them, where
// starting with the first would put everybody on it (and, when it dies, on the
// second). The worker goes round the list from there.
function serverList(urls) {
  const list = [urls ?? location.origin].flat();
  if (list.length === 0 || list.some((url) => typeof url !== 'string' || url === '')) {
    throw new TypeError('connect() takes a URL or a non-empty list of URLs');
  }
  const first = Math.floor(Math.random() * list.length);
  return [...list.slice(first), ...list.slice(0, first)];
}

export class ClubVoice extends Emitter {
  constructor(urls, options = {}) {
    super();
    // minBufferMs: the playout target's floor; by default it follows the frame size.
    // playback: 'low-latency' | 'background' (sdk/output.js); audioElement:
    // the page's own <audio> for the background path, else the SDK adds one.
    this.options = { decoder: 'auto', minBufferMs: null, maxBufferMs: 200, ...options };
    this.playbackValue = playbackPath(this.options.playback);
    this.state = 'connecting';
    this.config = null;
    this.clients = null;
    this.talkState = { talkers: [], floor: null };
    this.listening = false;
    this.talking = false;
    this.wantLevels = false;
    this.volumeValue = 1;
    this.wasLive = false;
    this.socketId = null;
    this.transport = null;
    this.decoderKind = null;
    this.urls = serverList(urls);
    this.url = this.urls[0];
    this.workerStats = StatsBlock.create(WORKER_FIELDS, sharedMemory());
    this.link = new RoomLink((message) => this.fromWorker(message));
    this.link.send('connect', {
      urls: this.urls,
      path: this.options.path ?? '/socket.io/',
      auth: this.auth(),
      stats: this.workerStats.shared ? this.workerStats.buffer : null,
    });
  }

  auth() {
    const auth = {};
    if (this.options.token) auth.token = this.options.token;
    if (this.options.name) auth.name = this.options.name;
    return auth;
  }

  fromWorker(message) {
    switch (message.type) {
      case 'event':
        return this.socketEvent(message.name, ...message.args);
      case 'transport':
        this.transport = message.name;
        return;
      case 'url':
        this.url = message.url;
        return this.emit('url', message.url);
      case 'stats':
        return this.workerStats.assign(message.values);
      case 'mic_level':
        return this.emit('mic_level', message.db);
      case 'mic_error':
        this.emit('error', new MicError('failed', message.message));
        return this.closeMic();
      case 'error':
        return this.emit('error', new Error(message.message));
    }
  }

  socketEvent(name, ...args) {
    switch (name) {
      case 'connect':
        this.wasLive = true;
        this.socketId = args[0];
        if (this.wantLevels) this.link.send('emit', { event: 'levels', args: [{ on: true }] });
        return this.setState('live');
      case 'disconnect':
        this.socketId = null;
        this.stopTalking();
        return this.setState(args[0] === 'io client disconnect' ? 'closed' : 'reconnecting');
      case 'connect_error':
        if (!args[1]) {
          this.refusal = args[0];
          return this.setState('refused');
        }
        return this.setState(this.wasLive ? 'reconnecting' : 'connecting');
      case 'config':
        return this.configure(args[0]);
      case 'clients':
        this.clients = args[0].count;
        return this.emit('clients', this.clients);
      case 'talk_state':
        this.talkState = args[0];
        return this.emit('talk_state', args[0]);
      default:
        return this.emit(name, ...args); // levels, reconnect_attempt
    }
  }

  setState(state) {
    if (state === this.state) return;
    this.state = state;
    this.emit('state', state);
  }

  // The socket id the server knows this client by (talkers and the floor name it).
  get id() {
    return this.socketId;
  }

  configure(config) {
    const changed = !this.config || config.channels !== this.config.channels || config.frameMs !== this.config.frameMs;
    this.config = config;
    this.clients = config.clients;
    this.emit('config', config);
    this.emit('clients', config.clients);
    if (changed && this.listening) this.startPlayback().catch((err) => this.emit('error', err));
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
      this.output = new Output(this.gain, {
        element: this.options.audioElement,
        onStopped: () => {
          if (this.listening) this.pause();
        },
      });
      this.output.use(this.playbackValue);
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
    // The background path's media element must start inside the gesture too.
    const playing = this.output?.play();
    this.emit('listening', true);
    await Promise.all([ready, playing]);
    if (this.config && this.listening) await this.startPlayback();
  }

  pause() {
    this.listening = false;
    this.link.send('unlisten');
    this.player?.disconnect();
    this.player = null;
    this.output?.pause();
    if (!this.mic && this.ctx?.state === 'running') this.ctx.suspend();
    this.emit('listening', false);
  }

  // A fresh worklet and decoder for the room's channels and frame size.
  async startPlayback() {
    const ctx = await this.audioContext();
    const { channels, frameMs } = this.config;
    this.player?.disconnect();
    this.player = new Player(ctx, { channels, frameMs, ...this.bufferOptions() });
    const { target, transfer } = this.player.connect(this.gain, this.analyserNode);
    const options = { target, channels, frameMs, prefer: this.options.decoder };
    options.wasmUrl = String(this.options.wasmDecoderUrl ?? WASM_DECODER_URL);
    const kind = await this.link.ask('listen', options, transfer);
    if (kind) this.decoderKind = kind;
  }

  bufferOptions() {
    return { minBufferMs: this.options.minBufferMs, maxBufferMs: this.options.maxBufferMs };
  }

  // Which path the sound leaves by: 'low-latency' or 'background'.
  get playback() {
    return this.playbackValue;
  }

  // Switches the path at any time; while listening, do it from a user
  // gesture (a toggle's change event), as the media element's play() needs one.
  set playback(value) {
    this.playbackValue = playbackPath(value);
    if (!this.output) return;
    this.output.use(this.playbackValue);
    if (this.listening) this.output.play().catch((err) => this.emit('error', err));
  }

  // The <audio> element the background path plays through, once made.
  get mediaElement() {
    return this.output?.element ?? null;
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
      if (was && this.state === 'live') this.link.send('emit', { event: 'talk', args: [{ on: false }] });
      return { granted: false, holder: null };
    }
    if (this.config?.canTalk === false) {
      // The server said so in `config`: do not open the microphone for nothing.
      this.wantTalk = false;
      const reason = this.config.mode === 'listen' ? 'this room is listen-only' : 'a talker token is needed';
      return { granted: false, holder: null, reason };
    }
    await this.openMic();
    if (!this.wantTalk) return { granted: false, holder: null };
    this.asking = true;
    let answer;
    try {
      answer = await this.link.ask('ask', { event: 'talk', args: [{ on: true }], timeoutMs: 5000 });
    } catch {
      answer = { granted: false, holder: null, reason: 'no answer from the server' };
    } finally {
      this.asking = false;
    }
    if (answer?.granted && this.wantTalk && this.state === 'live' && this.mic) {
      this.talking = true;
      this.mic.sending = true;
      this.emit('talking', true);
    } else if (answer?.granted) {
      this.link.send('emit', { event: 'talk', args: [{ on: false }] }); // released while we waited
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
      const mic = new Microphone(ctx, this.link, (err) => {
        this.emit('error', err);
        this.closeMic();
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

  // The name shown to others travels in the CONNECT auth: reconnect with it.
  setName(name) {
    this.options.name = name || undefined;
    this.link.send('auth', { auth: this.auth() });
  }

  // Subscribe this socket to the server's `levels` events (the debug page).
  levels(on) {
    this.wantLevels = on;
    if (this.state === 'live') this.link.send('emit', { event: 'levels', args: [{ on }] });
  }

  async getConfig() {
    return this.link.ask('ask', { event: 'get_config', args: [], timeoutMs: 5000 });
  }

  // Figures for the pages and tests: frames received, lost (gaps in seq),
  // decoded, played and concealed; the jitter buffer's depth and target and
  // every correction it made (dropped frames, accelerated cuts, resampling);
  // arrival (now - t) and its jitter, measured in the worker; capture-to-ear
  // latency (needs the server's and this device's clocks in sync) and the
  // device's own part of it, outputLatencyMs (on the background path the
  // media element's own buffer comes on top, unmeasured); the playback path;
  // the server in use (url).
  stats() {
    const worker = this.workerStats.read();
    const player = this.player?.stats() ?? Player.idleStats();
    return {
      state: this.state,
      listening: this.listening,
      talking: this.talking,
      decoder: this.player ? this.decoderKind : null,
      playback: this.playbackValue,
      transport: this.transport,
      url: this.url,
      sharedMemory: this.workerStats.shared,
      ...worker,
      arrivalJitterMs: worker.jitterMs,
      ...player,
      outputLatencyMs: this.ctx ? outputLatencyMs(this.ctx) : null,
    };
  }

  close() {
    this.closeMic();
    this.player?.disconnect();
    this.output?.close();
    this.link.close();
    this.setState('closed');
    this.ctx?.close();
  }
}

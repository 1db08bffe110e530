// The listener's sound path on the page (main thread): the playout worklet
// with its jitter buffer, then volume, then the speakers; an AnalyserNode
// taps the decoded sound for meters (and for tests). The worker feeds the
// worklet directly: through a FrameRing in shared memory where the page is
// cross-origin isolated, else through a MessageChannel. Reads the worklet's
// figures and turns them into capture-to-ear latency.
import { FrameRing } from './shared/frame_ring.js';
import { ringSlots } from './shared/playout_frames.js';
import { PLAYOUT_FIELDS, StatsBlock } from './shared/stats_block.js';

const PLAYOUT_URL = new URL('./worklets/playout_processor.js', import.meta.url);
const RATE = 48000;

// SharedArrayBuffer exists, and may be handed to workers and worklets.
export function sharedMemory() {
  return globalThis.crossOriginIsolated === true && typeof SharedArrayBuffer === 'function';
}

export class Player {
  constructor(ctx, { channels, frameMs, minBufferMs, maxBufferMs }) {
    this.ctx = ctx;
    this.channels = channels;
    this.frameMs = frameMs;
    this.shared = sharedMemory();
    // The sound card takes audio in bursts of baseLatency, a render quantum
    // (2.7 ms) at a time; the depth averaged over a burst's quanta must stay
    // half a burst (less a quantum) above empty, plus 3 ms to spare.
    const burstMs = Math.min(60, (ctx.baseLatency || 0.01) * 1000);
    const marginMs = Math.max(4, (burstMs - (128 / ctx.sampleRate) * 1000) / 2 + 3);
    this.buffer = { channels, frameMs, minTargetMs: minBufferMs ?? null, maxTargetMs: maxBufferMs, marginMs };
    this.block = StatsBlock.create(PLAYOUT_FIELDS, this.shared);
  }

  static async load(ctx) {
    await ctx.audioWorklet.addModule(PLAYOUT_URL);
  }

  // Builds the worklet. Returns what the worker needs to feed it: {target,
  // transfer} for its `listen` message.
  connect(destination, analyser) {
    let target;
    let workletPort = null;
    if (this.shared) {
      target = { ring: FrameRing.create(ringSlots(this.frameMs), this.channels, (RATE * this.frameMs) / 1000).layout };
    } else {
      const channel = new MessageChannel();
      target = { port: channel.port1 };
      workletPort = channel.port2;
    }
    this.node = new AudioWorkletNode(this.ctx, 'clubvoice-playout', {
      numberOfInputs: 0,
      numberOfOutputs: 1,
      outputChannelCount: [this.channels],
      processorOptions: { buffer: this.buffer, ring: target.ring, stats: this.shared ? this.block.buffer : undefined },
    });
    if (workletPort) this.node.port.postMessage({ port: workletPort }, [workletPort]);
    this.node.port.onmessage = (event) => this.block.assign(event.data); // without shared memory
    this.node.connect(destination);
    this.node.connect(analyser);
    return { target, transfer: target.port ? [target.port] : [] };
  }

  // When the sample rendered at context time ctxTime reaches the ear, in ms
  // since the epoch. The output timestamp maps context time to the moment
  // the device plays it, its output latency included; without one, add the
  // latencies the context states to when it was rendered.
  heardAt(ctxTime) {
    const ts = this.ctx.getOutputTimestamp?.();
    if (ts && ts.performanceTime > 0) {
      return performance.timeOrigin + ts.performanceTime + (ctxTime - ts.contextTime) * 1000;
    }
    return Date.now() + (ctxTime - this.ctx.currentTime) * 1000 + (outputLatencyMs(this.ctx) ?? 0);
  }

  // Figures before any report: all zero.
  static idleStats() {
    return figures({}, null);
  }

  stats() {
    const r = this.block.read();
    return figures(r, r.headT > 0 ? this.heardAt(r.ctxTime) - r.headT : null);
  }

  disconnect() {
    this.node.port.onmessage = null;
    this.node.disconnect();
  }
}

// The device's own delay from the page's output to the speaker as the
// browser reports it (AudioContext.outputLatency, plus the baseLatency of
// handing the sound over), in ms; null where it reports none.
export function outputLatencyMs(ctx) {
  if (typeof ctx.outputLatency !== 'number') return null;
  return ((ctx.baseLatency || 0) + ctx.outputLatency) * 1000;
}

function figures(r, latencyMs) {
  return {
    played: r.played ?? 0,
    concealed: r.concealed ?? 0,
    late: r.late ?? 0,
    dropped: r.dropped ?? 0,
    underruns: r.underruns ?? 0,
    resyncs: r.resyncs ?? 0,
    accelerated: r.accelerated ?? 0,
    acceleratedMs: r.acceleratedMs ?? 0,
    stretched: r.stretched ?? 0,
    stretchedMs: r.stretchedMs ?? 0,
    resampledMs: r.resampledMs ?? 0,
    bufferState: r.playing ? 'playing' : 'prefill',
    bufferMs: r.avgDepthMs ?? 0,
    depthMs: r.depthMs ?? 0,
    targetMs: r.targetMs ?? 0,
    jitterMs: r.jitterMs ?? 0,
    rate: r.rate || 1,
    latencyMs,
  };
}

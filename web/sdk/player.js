// The listener's sound path (main thread): the playout worklet with its
// jitter buffer, then volume, then the speakers; an AnalyserNode taps the
// decoded sound for meters (and for tests). Turns the worklet's reports
// into figures, including capture-to-ear latency.
const PLAYOUT_URL = new URL('./worklets/playout_processor.js', import.meta.url);

export class Player {
  constructor(ctx, { channels, frameMs, minBufferMs, maxBufferMs }) {
    this.ctx = ctx;
    this.channels = channels;
    this.frameMs = frameMs;
    this.options = { channels, frameMs, minTargetMs: minBufferMs, maxTargetMs: maxBufferMs };
    this.report = null;
    this.latencyMs = null;
  }

  static async load(ctx) {
    await ctx.audioWorklet.addModule(PLAYOUT_URL);
  }

  connect(destination, analyser) {
    this.node = new AudioWorkletNode(this.ctx, 'clubvoice-playout', {
      numberOfInputs: 0,
      numberOfOutputs: 1,
      outputChannelCount: [this.channels],
      processorOptions: this.options,
    });
    this.node.port.onmessage = (event) => this.receive(event.data);
    this.node.connect(destination);
    this.node.connect(analyser);
  }

  push(seq, t, planes) {
    this.node.port.postMessage({ type: 'frame', seq, t, planes }, planes.map((p) => p.buffer));
  }

  reset() {
    this.node.port.postMessage({ type: 'reset' });
    this.latencyMs = null;
  }

  receive(report) {
    this.report = report;
    this.latencyMs = report.headT ? this.heardAt(report.ctxTime) - report.headT : null;
  }

  // When the sample rendered at context time ctxTime reaches the ear, in ms
  // since the epoch: the output timestamp maps context time to performance
  // time at the speaker; without one, add the latencies the context states.
  heardAt(ctxTime) {
    const ts = this.ctx.getOutputTimestamp?.();
    if (ts && ts.performanceTime > 0) {
      return performance.timeOrigin + ts.performanceTime + (ctxTime - ts.contextTime) * 1000;
    }
    const ahead = (ctxTime - this.ctx.currentTime) * 1000;
    return Date.now() + ahead + (this.ctx.baseLatency + (this.ctx.outputLatency || 0)) * 1000;
  }

  // Figures before any report: all zero.
  static idleStats() {
    return Player.prototype.stats.call({ report: null, latencyMs: null });
  }

  stats() {
    const r = this.report ?? {};
    return {
      played: r.played ?? 0,
      concealed: r.concealed ?? 0,
      late: r.late ?? 0,
      dropped: r.dropped ?? 0,
      underruns: r.underruns ?? 0,
      resyncs: r.resyncs ?? 0,
      bufferState: r.state ?? 'prefill',
      bufferMs: r.avgDepthMs ?? 0,
      depthMs: r.depthMs ?? 0,
      targetMs: r.targetMs ?? 0,
      jitterMs: r.jitterMs ?? 0,
      rate: r.rate ?? 1,
      latencyMs: this.latencyMs,
    };
  }

  disconnect() {
    this.node.port.onmessage = null;
    this.node.disconnect();
  }
}

// Where the room worker puts decoded frames for the playout worklet: a slot
// of the shared FrameRing (copied straight from the decoder's output, no
// allocation), or, without shared memory, a message on the worklet's port
// with new planes that are transferred, not copied.
import { FrameRing, META } from '../shared/frame_ring.js';
import { FRAME, JITTER, KIND, RESET, SEQ, T } from '../shared/playout_frames.js';

export class PlayoutSink {
  // target: {ring: a FrameRing layout} or {port}; samples per frame.
  constructor(target, channels, samples) {
    this.ring = target.ring ? new FrameRing(target.ring) : null;
    this.port = target.port ?? null;
    this.channels = channels;
    this.samples = samples;
    this.pendingReset = true;
    this.drops = 0; // frames the ring had no room for (the audio thread was away)
  }

  // The stream starts over: the worklet forgets what it holds first.
  reset() {
    this.pendingReset = true;
  }

  // One decoded frame: source is an AudioData or an array of planes with
  // `n` samples each.
  write(seq, t, jitterMs, source, n) {
    if (this.pendingReset && !this.sendReset()) {
      this.drops++;
      return;
    }
    if (this.port) {
      const planes = [];
      for (let c = 0; c < this.channels; c++) {
        planes.push(new Float32Array(this.samples));
        copyPlane(source, c, planes[c], n);
      }
      this.port.postMessage({ kind: FRAME, seq, t, jitterMs, planes }, planes.map((p) => p.buffer));
      return;
    }
    const slot = this.ring.reserve();
    if (slot < 0) {
      this.drops++;
      return;
    }
    const planes = this.ring.planes[slot];
    for (let c = 0; c < this.channels; c++) copyPlane(source, c, planes[c], n);
    const meta = this.ring.meta;
    meta[slot * META + SEQ] = seq;
    meta[slot * META + T] = t;
    meta[slot * META + JITTER] = jitterMs;
    meta[slot * META + KIND] = FRAME;
    this.ring.commit();
  }

  sendReset() {
    if (this.port) {
      this.port.postMessage({ kind: RESET });
    } else {
      const slot = this.ring.reserve();
      if (slot < 0) return false;
      this.ring.meta[slot * META + KIND] = RESET;
      this.ring.commit();
    }
    this.pendingReset = false;
    return true;
  }

  close() {
    this.port?.close();
  }
}

// Channel c of the source (its last channel where it has fewer) into dst,
// silence after the first n samples.
function copyPlane(source, c, dst, n) {
  const count = Math.min(n, dst.length);
  if (Array.isArray(source)) {
    const src = source[Math.min(c, source.length - 1)];
    dst.set(count === src.length ? src : src.subarray(0, count));
  } else {
    const planeIndex = Math.min(c, source.numberOfChannels - 1);
    source.copyTo(dst.subarray(0, count), { planeIndex, format: 'f32-planar', frameCount: count });
  }
  if (count < dst.length) dst.fill(0, count);
}

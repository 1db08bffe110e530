// How the worker hands decoded frames to the playout worklet: one FrameRing
// slot per frame, its samples and these numbers beside them; or, where there
// is no shared memory, a message {kind, seq, t, jitterMs, planes} on a port.
export const SEQ = 0;
export const T = 1; // capture time of the first sample, ms since the epoch
export const JITTER = 2; // the arrival jitter measured when it came, ms
export const KIND = 3;

export const FRAME = 0;
export const RESET = 1; // the stream starts over: forget what is buffered

// Slots for about a second of frames (a power of two, at least 32).
export function ringSlots(frameMs) {
  let slots = 32;
  while (slots * frameMs < 1000) slots *= 2;
  return slots;
}

// Changing the buffer's depth without a click and without changing the
// pitch: where the sound repeats itself (a pitch period of a voice or a
// note) or is nearly silent, one or more periods can be cut out (the
// listener hears the same sound, only sooner) or played twice (later), the
// two sides crossfaded. Searches the jitter buffer's ring; runs on the audio
// rendering thread and allocates nothing.
const MIN_LAG = 120; // 2.5 ms: pitch up to 400 Hz
const MAX_LAG = 720; // 15 ms
const WINDOW = 240; // 5 ms compared at each lag
const MIN_CORRELATION = 0.9;
const QUIET = 1e-5; // mean square below about -50 dBFS
export const REACH = MAX_LAG + WINDOW + 8; // samples either side of `at` a search may read

// The number of samples to skip ahead (direction 1) or back (-1) from
// stream position `at` of `plane` (a ring of mask + 1 samples), or 0 where
// no jump would be inaudible: the sound after `at` must match the sound
// after the place jumped to.
export function findCut(plane, mask, at, direction = 1) {
  let xx = 0;
  for (let i = 0; i < WINDOW; i += 2) {
    const x = plane[(at + i) & mask];
    xx += x * x;
  }
  if (xx / (WINDOW / 2) < QUIET && quietAt(plane, mask, at + direction * MAX_LAG)) return MAX_LAG;
  let best = 0;
  let bestScore = MIN_CORRELATION;
  for (let lag = MIN_LAG; lag <= MAX_LAG; lag += 2) {
    const score = correlation(plane, mask, at, direction * lag, xx);
    if (score > bestScore) {
      bestScore = score;
      best = lag;
    }
  }
  if (best === 0) return 0;
  // The search stepped by two samples: look at the odd neighbours too.
  if (correlation(plane, mask, at, direction * (best - 1), xx) > bestScore) return best - 1;
  if (correlation(plane, mask, at, direction * (best + 1), xx) > bestScore) return best + 1;
  return best;
}

function correlation(plane, mask, at, lag, xx) {
  let xy = 0;
  let yy = 0;
  for (let i = 0; i < WINDOW; i += 2) {
    const x = plane[(at + i) & mask];
    const y = plane[(at + lag + i) & mask];
    xy += x * y;
    yy += y * y;
  }
  return xx > 0 && yy > 0 ? xy / Math.sqrt(xx * yy) : 0;
}

function quietAt(plane, mask, at) {
  let sum = 0;
  for (let i = 0; i < WINDOW; i += 2) {
    const v = plane[(at + i) & mask];
    sum += v * v;
  }
  return sum / (WINDOW / 2) < QUIET;
}

// The lock-free ring (web/sdk/shared/frame_ring.js) that carries frames
// between the worker and the worklets, and the figures block beside it
// (web/sdk/shared/stats_block.js): the same code, run here by two Node
// threads sharing memory as the browser's threads do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { FrameRing, META } from '../../web/sdk/shared/frame_ring.js';
import { StatsBlock } from '../../web/sdk/shared/stats_block.js';

test('a full ring refuses, and frames come out in order with their numbers', () => {
  const ring = FrameRing.create(4, 2, 8);
  for (let n = 0; n < 4; n++) {
    const slot = ring.reserve();
    assert.ok(slot >= 0);
    ring.planes[slot][1].fill(n);
    ring.meta[slot * META] = n;
    ring.commit();
  }
  assert.equal(ring.reserve(), -1);
  for (let n = 0; n < 4; n++) {
    const slot = ring.peek();
    assert.equal(ring.meta[slot * META], n);
    assert.deepEqual([...ring.planes[slot][1]], new Array(8).fill(n));
    ring.release();
  }
  assert.equal(ring.peek(), -1);
});

test('a producer thread and a consumer share the ring without a lock', async () => {
  const FRAMES = 20000;
  const ring = FrameRing.create(8, 1, 64);
  const source = `
    const { workerData } = require('node:worker_threads');
    import(${JSON.stringify(new URL('../../web/sdk/shared/frame_ring.js', import.meta.url).href)}).then(({ FrameRing, META }) => {
      const ring = new FrameRing(workerData);
      for (let n = 0; n < ${FRAMES}; ) {
        const slot = ring.reserve();
        if (slot < 0) continue;
        ring.planes[slot][0].fill(n);
        ring.meta[slot * META] = n++;
        ring.commit();
      }
    });`;
  const producer = new Worker(source, { eval: true, workerData: ring.layout });
  let expected = 0;
  let torn = 0;
  while (expected < FRAMES) {
    const slot = ring.peek();
    if (slot < 0) {
      await ring.whenReady(50);
      continue;
    }
    const plane = ring.planes[slot][0];
    if (ring.meta[slot * META] !== expected || plane[0] !== expected || plane[63] !== expected) torn++;
    expected++;
    ring.release();
  }
  await producer.terminate();
  assert.equal(torn, 0);
});

test('the figures block gives a consistent copy', () => {
  const block = StatsBlock.create(['a', 'b'], true);
  assert.equal(block.shared, true);
  block.begin();
  block.values[0] = 1;
  block.values[1] = 2;
  block.end();
  assert.deepEqual(block.read(), { a: 1, b: 2 });
  const copy = new StatsBlock(['a', 'b'], block.buffer);
  assert.deepEqual(copy.read(), { a: 1, b: 2 });
  const local = StatsBlock.create(['a', 'b'], false);
  local.assign(new Float64Array([3, 4]));
  assert.deepEqual(local.read(), { a: 3, b: 4 });
});

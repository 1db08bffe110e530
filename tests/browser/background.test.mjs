// Background ("lock-screen") listening in a real Chromium. On the background
// path the decoded room leaves the page through a
// MediaStreamAudioDestinationNode and an <audio> element, instead of the
// AudioContext's destination, because phones keep a media element playing
// with the screen locked. The element must exist, play, and carry the room's
// 440 Hz tone; nothing may feed the destination besides. The listen page
// takes the path from ?playback=background, and on a phone from its toggle,
// on by default there. Whether a locked iPhone or Android phone keeps
// playing cannot be checked here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyserPeakHz, live, openPage, sleep, stats, useDaemonAndBrowser, waitFor } from './harness.mjs';

const env = useDaemonAndBrowser({ toneHz: 440 });
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, locale: 'en-US' };
const DESKTOP = { viewport: { width: 1280, height: 800 }, locale: 'en-US' };

// Counts, in window.destinationFeeds, every connect() of an audio node into
// an AudioContext's destination, before the page's own scripts run.
async function countDestinationFeeds(context) {
  await context.addInitScript(() => {
    window.destinationFeeds = 0;
    const connect = AudioNode.prototype.connect;
    AudioNode.prototype.connect = function (target, ...rest) {
      if (target instanceof AudioDestinationNode) window.destinationFeeds++;
      return connect.call(this, target, ...rest);
    };
  });
}

async function open(path, contextOptions) {
  const context = await env.browser.newContext(contextOptions);
  await countDestinationFeeds(context);
  const page = await openPage(env.browser, `${env.daemon.url}${path}`, {}, context);
  await live(page);
  return page;
}

// What the page's <audio> elements are doing.
function audioElements(page) {
  return page.evaluate(() => [...document.querySelectorAll('audio')].map((el) => ({
    paused: el.paused,
    currentTime: el.currentTime,
    stream: el.srcObject instanceof MediaStream,
    tracks: el.srcObject instanceof MediaStream ? el.srcObject.getAudioTracks().map((t) => t.readyState) : [],
    isTheRooms: el === window.clubvoice.mediaElement,
  })));
}

// The loudest frequency in the element's own stream, heard by a second
// AudioContext of the page's (not the SDK's) through its own analyser.
function elementStreamPeakHz(page) {
  return page.evaluate(async () => {
    if (!window.tap) {
      const ctx = new AudioContext();
      const analyser = ctx.createAnalyser();
      analyser.fftSize = 4096;
      analyser.smoothingTimeConstant = 0.5;
      ctx.createMediaStreamSource(document.querySelector('audio').srcObject).connect(analyser);
      window.tap = analyser;
    }
    if (window.tap.context.state !== 'running') await window.tap.context.resume();
    const bins = new Float32Array(window.tap.frequencyBinCount);
    window.tap.getFloatFrequencyData(bins);
    let best = 0;
    for (let i = 1; i < bins.length; i++) if (bins[i] > bins[best]) best = i;
    return { hz: (best * window.tap.context.sampleRate) / window.tap.fftSize, db: bins[best] };
  });
}

const near440 = (p) => Math.abs(p.hz - 440) <= 15 && p.db > -40;

// Clicks listen, then checks that the room plays through the <audio> element
// and nowhere else, and that its stream carries the tone.
async function listenInBackground(page) {
  await page.click('#listen');
  await waitFor('frames played', async () => (await stats(page)).played > 10, 3000);
  const s = await stats(page);
  assert.equal(s.playback, 'background');
  const [el, ...more] = await waitFor('a playing <audio> element', async () => {
    const els = await audioElements(page);
    return els.length && !els[0].paused ? els : null;
  }, 3000);
  assert.equal(more.length, 0, 'one <audio> element');
  assert.ok(el.isTheRooms, 'the element is the SDK\'s mediaElement');
  assert.ok(el.stream, 'srcObject is a MediaStream');
  assert.deepEqual(el.tracks, ['live']);
  await sleep(500);
  const [later] = await audioElements(page);
  assert.ok(!later.paused, 'still playing');
  assert.ok(later.currentTime > el.currentTime + 0.2, `currentTime ${el.currentTime} -> ${later.currentTime}`);
  const peak = await waitFor('440 Hz in the element\'s stream', async () => {
    const p = await elementStreamPeakHz(page);
    return near440(p) ? p : null;
  }, 3000);
  // The SDK's analyser (before the volume) still hears the room too.
  assert.ok(near440(await analyserPeakHz(page)), 'analyser tap');
  assert.equal(await page.evaluate(() => window.destinationFeeds), 0, 'nothing feeds ctx.destination');
  assert.equal(await page.evaluate(() => navigator.mediaSession.playbackState), 'playing');
  assert.equal(await page.evaluate(() => navigator.mediaSession.metadata?.title), 'Listen to the room');
  console.log(`element stream peak ${peak.hz.toFixed(1)} Hz at ${peak.db.toFixed(1)} dB; ${JSON.stringify(s)}`);
}

test('?playback=background plays the room through an <audio> element', async () => {
  const page = await open('/?playback=background', DESKTOP);
  try {
    assert.equal(await page.isHidden('#background-choice'), true, 'no toggle on a desktop');
    await listenInBackground(page);
    // Volume still works on this path: at 0 the element's stream falls silent.
    await page.$eval('#volume', (el) => {
      el.value = '0';
      el.dispatchEvent(new Event('input'));
    });
    await waitFor('silence in the element\'s stream', async () => (await elementStreamPeakHz(page)).db < -90, 3000);
    await page.click('#listen');
    await waitFor('the element paused', async () => (await audioElements(page))[0].paused, 2000);
    assert.equal((await stats(page)).listening, false);
    assert.deepEqual(page.problems, []);
  } finally {
    await page.context().close();
  }
});

test('on a phone the toggle is offered, on by default, and switches paths', async () => {
  const page = await open('/', PHONE);
  try {
    const toggle = page.getByRole('checkbox', { name: 'Keep playing when the screen locks' });
    assert.equal(await toggle.isVisible(), true);
    assert.equal(await toggle.isChecked(), true);
    await listenInBackground(page);
    // Off: the room goes back to the destination and the element stops.
    await toggle.uncheck();
    assert.equal((await stats(page)).playback, 'low-latency');
    await waitFor('the element paused', async () => (await audioElements(page))[0].paused, 2000);
    assert.equal(await page.evaluate(() => window.destinationFeeds), 1);
    assert.ok(near440(await analyserPeakHz(page)), 'still playing on the low-latency path');
    // On again, without a new click on listen: the element plays again.
    await toggle.check();
    await waitFor('the element playing again', async () => !(await audioElements(page))[0].paused, 2000);
    assert.equal((await stats(page)).playback, 'background');
    assert.deepEqual(page.problems, []);
  } finally {
    await page.context().close();
  }
});

test('the toggle speaks Simplified Chinese and remembers being turned off', async () => {
  const page = await open('/', { ...PHONE, locale: 'zh-CN' });
  try {
    assert.equal((await page.textContent('#background-choice')).trim(), '锁屏时继续播放');
    await page.getByRole('checkbox', { name: '锁屏时继续播放' }).uncheck();
    await page.reload();
    await live(page);
    assert.equal(await page.isChecked('#background'), false);
    assert.equal((await stats(page)).playback, 'low-latency');
    assert.deepEqual(page.problems, []);
  } finally {
    await page.context().close();
  }
});

test('a desktop keeps the low-latency path: no <audio> element', async () => {
  const page = await open('/', DESKTOP);
  try {
    assert.equal(await page.isHidden('#background-choice'), true);
    await page.click('#listen');
    await waitFor('440 Hz at the analyser', async () => near440(await analyserPeakHz(page)), 3000);
    assert.equal((await stats(page)).playback, 'low-latency');
    assert.deepEqual(await audioElements(page), []);
    assert.equal(await page.evaluate(() => window.destinationFeeds), 1);
    assert.deepEqual(page.problems, []);
  } finally {
    await page.context().close();
  }
});

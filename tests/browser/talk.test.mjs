// The talk page in a real Chromium with a fake microphone that plays 1 kHz
// in speech-like bursts: holding #talk gets the floor, and the tone comes
// out of the daemon's playback device (a raw file, analysed here).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  burstWav, candidatesAround, dominant, fakeMicrophone, launchBrowser, loudPart, openPage, readS16, sleep, startDaemon,
  stats, waitFor,
} from './harness.mjs';

const RATE = 48000;
let daemon;
before(async () => {
  daemon = await startDaemon({ toneHz: 440 });
});
after(async () => {
  assert.equal(await daemon.stop(), 0, daemon.child.stderrText);
});

test('holding #talk sends the microphone to the room', async () => {
  const wav = join(daemon.dir, 'mic.wav');
  burstWav(wav, 1000, 10);
  const browser = await launchBrowser(fakeMicrophone(wav));
  try {
    const page = await openPage(browser, `${daemon.url}/talk`);
    await waitFor('the page to be live', () => page.evaluate(() => window.clubvoice?.state === 'live'));
    assert.equal(await page.isEnabled('#talk'), true);
    await page.hover('#talk');
    await page.mouse.down();
    const granted = await waitFor('the floor', async () => {
      const s = await stats(page);
      return s.talking && s.micPackets > 25 ? s : null;
    }, 5000);
    assert.equal(await page.getAttribute('#talk', 'aria-pressed'), 'true');
    await waitFor('the talkers line to name us', async () => /you/.test(await page.textContent('#floor')), 2000);
    await sleep(2000);
    await page.mouse.up();
    await waitFor('the floor to be released', async () => !(await stats(page)).talking, 2000);
    assert.equal(await page.getAttribute('#talk', 'aria-pressed'), 'false');
    const sent = (await stats(page)).micPackets;
    assert.ok(sent >= 100, `only ${sent} packets sent in about 2.5 s (granted after ${granted.micPackets})`);
    await sleep(500); // the daemon's jitter buffer and ALSA period drain
    const heard = loudPart(readS16(daemon.playbackPath));
    assert.ok(heard.length >= RATE / 2, `only ${heard.length / RATE} s of sound in the playback file`);
    const d = dominant(heard, candidatesAround(1000));
    console.log(`playback: ${(heard.length / RATE).toFixed(2)} s loud, dominant ${d.hz} Hz by ${d.marginDb.toFixed(1)} dB`);
    assert.equal(d.hz, 1000);
    assert.ok(d.marginDb > 10, `1 kHz only ${d.marginDb} dB above the next`);

    // The space bar works the same way, from anywhere on the page.
    await page.click('h1');
    await page.keyboard.down('Space');
    await waitFor('talking with the space bar', async () => (await stats(page)).talking, 3000);
    await page.keyboard.up('Space');
    await waitFor('the floor to be released', async () => !(await stats(page)).talking, 2000);
    assert.deepEqual(page.problems, []);
  } finally {
    await browser.close();
  }
});

test('a refused microphone is explained on the page', async () => {
  const browser = await launchBrowser(['--use-fake-device-for-media-stream']);
  try {
    const page = await openPage(browser, `${daemon.url}/talk`);
    await waitFor('the page to be live', () => page.evaluate(() => window.clubvoice?.state === 'live'));
    await page.focus('#talk');
    await page.keyboard.press('Enter'); // keyboard activation toggles
    await waitFor('the explanation', () => page.isVisible('#talk-problem'), 5000);
    assert.match(await page.textContent('#talk-problem'), /Microphone access was refused/);
    assert.equal((await stats(page)).talking, false);
    assert.deepEqual(page.problems, []);
  } finally {
    await browser.close();
  }
});

test('in half mode the floor is shown, and a second talker is refused while it is held', async () => {
  const half = await startDaemon({ toneHz: 440, audio: { mode: 'half' } });
  const wav = join(half.dir, 'mic.wav');
  burstWav(wav, 1000, 5);
  const browser = await launchBrowser(fakeMicrophone(wav));
  const named = async (name) => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
    await context.addInitScript((n) => localStorage.setItem('clubvoice.name', n), name);
    const page = await context.newPage();
    page.problems = [];
    page.on('console', (msg) => msg.type() === 'error' && page.problems.push(msg.text()));
    page.on('pageerror', (err) => page.problems.push(err.message));
    await page.goto(`${half.url}/talk`);
    await waitFor(`${name} live`, () => page.evaluate(() => window.clubvoice?.state === 'live'));
    return page;
  };
  try {
    const ann = await named('Ann');
    const bob = await named('Bob');
    assert.equal(await bob.textContent('#floor'), 'The floor is free.');
    await ann.hover('#talk');
    await ann.mouse.down();
    await waitFor('Ann to hold the floor', async () => (await stats(ann)).talking, 5000);
    assert.equal(await ann.textContent('#floor'), 'You have the floor.');
    await waitFor('Bob to see it', async () => (await bob.textContent('#floor')) === 'Ann has the floor.', 2000);
    await bob.focus('#talk');
    await bob.keyboard.press('Enter');
    await waitFor('Bob to be refused', () => bob.isVisible('#talk-problem'), 5000);
    assert.equal(await bob.textContent('#talk-problem'), 'Not allowed to talk: Ann has the floor.');
    assert.equal((await stats(bob)).talking, false);
    await ann.mouse.up();
    await waitFor('the floor to be free again', async () => (await bob.textContent('#floor')) === 'The floor is free.', 2000);
    assert.deepEqual([...ann.problems, ...bob.problems], []);
  } finally {
    await browser.close();
    assert.equal(await half.stop(), 0, half.child.stderrText);
  }
});

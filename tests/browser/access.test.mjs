// Access control in the pages, against a daemon with `talk: token` whose
// admin networks leave 127.0.0.1 out: a talk link (/talk?token=…) talks and
// its token leaves the address bar (kept for the tab: a reload still talks);
// without one the talk page says a talk link is needed and nothing reaches
// the room; a link that is not valid, and a room that needs a link to
// listen, are said plainly in both languages; the debug page asks for an
// admin token before it shows the server's figures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  burstWav, candidatesAround, dominant, fakeMicrophone, live, loudPart, newToken, openPage, readS16,
  recordCspViolations, sleep, startDaemon, stats, useDaemonAndBrowser, waitFor,
} from './harness.mjs';

const RATE = 48000;
const talker = newToken('talker', 'desk');
const admin = newToken('admin', 'ops');
const env = useDaemonAndBrowser(
  { toneHz: 440, access: { talk: 'token', admin_networks: ['10.0.0.0/8'], tokens: [talker, admin] } },
  (daemon) => {
    const wav = join(daemon.dir, 'mic.wav');
    burstWav(wav, 1000, 20);
    return fakeMicrophone(wav);
  },
);

const link = (path, token) => `${env.daemon.url}${path}?token=${encodeURIComponent(token)}`;
const config = (page) => waitFor('the config', () => page.evaluate(() => window.clubvoice.config));
const played = () => readS16(env.daemon.playbackPath).length;

async function refused(page) {
  await waitFor('the refusal', () => page.evaluate(() => window.clubvoice?.state === 'refused'));
}

test('a talk link talks, and its token leaves the address bar but stays for the tab', async () => {
  const page = await openPage(env.browser, link('/talk', talker.token), { locale: 'en-US' });
  try {
    await live(page);
    assert.equal(await page.evaluate(() => location.href), `${env.daemon.url}/talk`);
    assert.deepEqual(await config(page).then((c) => [c.role, c.canTalk]), ['talker', true]);
    assert.equal(await page.isEnabled('#talk'), true);
    assert.equal(await page.getAttribute('#talk-help', 'data-blocked'), null);

    const start = played();
    await page.hover('#talk');
    await page.mouse.down();
    await waitFor('the floor', async () => {
      const s = await stats(page);
      return s.talking && s.micPackets > 25;
    }, 5000);
    await sleep(2000);
    await page.mouse.up();
    await waitFor('the floor to be released', async () => !(await stats(page)).talking, 2000);
    await sleep(500); // the daemon's jitter buffer and ALSA period drain
    const heard = loudPart(readS16(env.daemon.playbackPath, start));
    assert.ok(heard.length >= RATE / 2, `only ${heard.length / RATE} s of sound in the playback file`);
    const d = dominant(heard, candidatesAround(1000));
    console.log(`talk link: ${(heard.length / RATE).toFixed(2)} s loud, dominant ${d.hz} Hz by ${d.marginDb.toFixed(1)} dB`);
    assert.equal(d.hz, 1000);
    assert.ok(d.marginDb > 10, `1 kHz only ${d.marginDb} dB above the next`);

    // A reload (now under the service worker) is still the talker, and the
    // address still shows no token.
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 5000 });
    await page.reload();
    await live(page);
    assert.equal(await page.evaluate(() => location.href), `${env.daemon.url}/talk`);
    assert.deepEqual(await config(page).then((c) => [c.role, c.canTalk]), ['talker', true]);

    // Opened again while the service worker serves the page: the worker
    // keeps its copy under the bare path, never under the link.
    await page.goto(link('/talk', talker.token));
    await live(page);
    await sleep(300);
    const cached = await page.evaluate(async () => {
      const urls = [];
      for (const name of await caches.keys()) {
        for (const request of await (await caches.open(name)).keys()) urls.push(request.url);
      }
      return urls;
    });
    assert.ok(cached.some((url) => url.endsWith('/talk')), `cached: ${cached}`);
    assert.deepEqual(cached.filter((url) => url.includes('token')), []);
    assert.equal(await page.evaluate(() => location.href), `${env.daemon.url}/talk`);
    assert.deepEqual(page.problems, []);
  } finally {
    await page.context().close();
  }
});

test('without a talk link the talk page says one is needed, and nothing reaches the room', async () => {
  const page = await openPage(env.browser, `${env.daemon.url}/talk`, { locale: 'en-US' });
  try {
    await live(page);
    assert.deepEqual(await config(page).then((c) => [c.role, c.canTalk]), ['listener', false]);
    await waitFor('the talk link notice', async () => (await page.getAttribute('#talk-help', 'data-blocked')) === 'talk.linkNeeded');
    assert.match(await page.textContent('#talk-help'), /^Talk link needed: /);
    assert.equal(await page.isDisabled('#talk'), true);

    const start = played();
    // Neither the button nor the space bar opens the microphone.
    await page.click('#talk', { force: true });
    await page.click('h1');
    await page.keyboard.down('Space');
    await sleep(300);
    await page.keyboard.up('Space');
    assert.deepEqual(await stats(page).then((s) => [s.talking, s.micPackets]), [false, 0]);
    assert.equal(await page.isHidden('#talk-problem'), true);
    await page.selectOption('#lang', 'zh-CN');
    assert.match(await page.textContent('#talk-help'), /^需要发言链接：/);
    // The SDK does not ask either; and a client that asks anyway (the
    // server's config overridden) is refused by the server.
    assert.deepEqual(await page.evaluate(() => window.clubvoice.talk(true)),
      { granted: false, holder: null, reason: 'a talker token is needed' });
    const answer = await page.evaluate(async () => {
      const room = window.clubvoice;
      const real = room.config;
      room.config = { ...real, canTalk: true };
      try {
        return await room.talk(true);
      } finally {
        room.configure(real);
      }
    });
    assert.equal(answer.granted, false);
    assert.equal(answer.reason, 'a talker token is needed');
    assert.equal((await stats(page)).talking, false);
    await sleep(1500);
    const heard = loudPart(readS16(env.daemon.playbackPath, start));
    assert.equal(heard.length, 0, `${heard.length / RATE} s of sound reached the room`);
    assert.equal(await page.getAttribute('#talk-help', 'data-blocked'), 'talk.linkNeeded');

    assert.deepEqual(page.problems, []);
  } finally {
    await page.context().close();
  }
});

test('a link that is not valid is refused and said so, and the tab forgets it', async () => {
  const page = await openPage(env.browser, link('/', 'not-a-token'), { locale: 'en-US' });
  try {
    await refused(page);
    assert.equal(await page.getAttribute('#state', 'data-refusal'), 'invalid');
    assert.equal(await page.textContent('#state'), 'This link is not valid: ask for a new one.');
    assert.equal(await page.isDisabled('#listen'), true);
    assert.equal(await page.evaluate(() => location.href), `${env.daemon.url}/`);
    await page.selectOption('#lang', 'zh-CN');
    assert.equal(await page.textContent('#state'), '此链接无效：请索取新的链接。');
    assert.equal(await page.evaluate(() => sessionStorage.getItem('clubvoice.token')), null);

    // Forgotten, so the tab's other pages are not refused for it: the talk
    // page listens as anyone may (and says that talking needs a link).
    await page.goto(`${env.daemon.url}/talk`);
    await live(page);
    assert.equal((await config(page)).role, 'listener');
    assert.equal(await page.isDisabled('#talk'), true);
    assert.deepEqual(page.problems, []);
  } finally {
    await page.context().close();
  }
});

test('a room that needs a link to listen says so; a listener link in a listen-only room listens', async () => {
  const listener = newToken('listener', 'guest');
  const locked = await startDaemon({ toneHz: 440, audio: { mode: 'listen' }, access: { listen: 'token', tokens: [listener] } });
  try {
    const page = await openPage(env.browser, `${locked.url}/talk`, { locale: 'en-US' });
    await refused(page);
    assert.equal(await page.getAttribute('#state', 'data-refusal'), 'needed');
    assert.equal(await page.textContent('#state'), 'A link is needed to listen to this room: ask for one.');
    assert.equal(await page.getAttribute('#talk-help', 'data-blocked'), 'state.refused.needed');
    assert.equal(await page.isDisabled('#talk'), true);
    assert.equal(await page.isDisabled('#listen'), true);
    await page.selectOption('#lang', 'zh-CN');
    assert.equal(await page.textContent('#state'), '收听本房间需要链接：请索取一个。');

    await page.goto(`${locked.url}/talk?token=${encodeURIComponent(listener.token)}`);
    await live(page);
    assert.deepEqual(await config(page).then((c) => [c.role, c.mode, c.canTalk]), ['listener', 'listen', false]);
    await waitFor('the listen-only notice', async () => (await page.getAttribute('#talk-help', 'data-blocked')) === 'talk.listenOnly');
    assert.equal(await page.textContent('#talk-help'), '本房间仅供收听，任何人都不能发言。');
    await page.selectOption('#lang', 'en');
    assert.equal(await page.textContent('#talk-help'), 'This room is listen-only: nobody can talk.');
    assert.equal(await page.isDisabled('#talk'), true);
    await page.click('#listen');
    await waitFor('the room to play', async () => (await stats(page)).played > 10, 5000);
    assert.deepEqual(page.problems, []);
    await page.context().close();
  } finally {
    assert.equal(await locked.stop(), 0, locked.child.stderrText);
  }
});

// Chromium logs each refused /status answer as a failed resource load.
const STATUS_REFUSED = /Failed to load resource: the server responded with a status of 40[13]/;

test('the debug page asks for an admin token when /status wants one, and then shows the figures', async () => {
  const unauthorised = await fetch(`${env.daemon.url}/status`);
  assert.equal(unauthorised.status, 401);
  const context = await env.browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'en-US' });
  await recordCspViolations(context);
  const page = await openPage(env.browser, `${env.daemon.url}/debug`, {}, context);
  const why = () => page.textContent('#admin-why');
  const enter = async (token) => {
    await page.fill('#admin-token', token);
    await page.click('#admin-form button[type="submit"]');
  };
  try {
    await live(page);
    await waitFor('the token form', () => page.isVisible('#admin-form'));
    assert.equal(await why(), 'The server figures are for admins: enter an admin token.');
    assert.equal(await page.$('#status-table tr'), null);
    assert.equal(await page.isHidden('#status-problem'), true);

    await enter(talker.token);
    await waitFor('the talker token refused', async () => /not an admin token/.test(await why()));
    await enter('not-a-token');
    await waitFor('the unknown token refused', async () => /was not accepted/.test(await why()));
    await page.selectOption('#lang', 'zh-CN');
    assert.equal(await why(), '该令牌未被接受：请输入管理员令牌。');
    assert.equal(await page.textContent('label[for="admin-token"]'), '管理员令牌');
    await page.selectOption('#lang', 'en');

    await enter(admin.token);
    await waitFor('/status figures', () => page.$('#status-table tr[data-key="uptime_s"]'));
    assert.equal(await page.isHidden('#admin-form'), true);
    // Kept for the tab: a reload shows the figures without asking.
    await page.reload();
    await live(page);
    await waitFor('/status figures after a reload', () => page.$('#status-table tr[data-key="uptime_s"]'));
    assert.equal(await page.isHidden('#admin-form'), true);
    assert.deepEqual(await page.evaluate(() => window.cspViolations), []);
    assert.deepEqual(page.problems.filter((p) => !STATUS_REFUSED.test(p)), []);
  } finally {
    await context.close();
  }

  // An admin's link opens the figures at once.
  const linked = await openPage(env.browser, link('/debug', admin.token), { locale: 'en-US' });
  try {
    await live(linked);
    assert.equal((await config(linked)).role, 'admin');
    await waitFor('/status figures', () => linked.$('#status-table tr[data-key="uptime_s"]'));
    assert.equal(await linked.isHidden('#admin-form'), true);
    assert.deepEqual(linked.problems, []);
  } finally {
    await linked.context().close();
  }
});

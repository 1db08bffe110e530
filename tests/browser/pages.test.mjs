// Every page rendered at phone and desktop sizes, light and dark, into
// screenshots; no console errors; every control has an accessible name;
// English and Simplified Chinese follow the browser and the switch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { artifactDir, openPage, useDaemonAndBrowser, waitFor } from './harness.mjs';

const PAGES = { listen: '/', talk: '/talk', debug: '/debug' };
const SIZES = { phone: { width: 390, height: 844 }, desktop: { width: 1280, height: 800 } };

const env = useDaemonAndBrowser({ toneHz: 440 });

async function live(page) {
  await waitFor('the page to be live', () => page.evaluate(() => window.clubvoice?.state === 'live'));
}

test('screenshots of every page at phone and desktop sizes, light and dark', async () => {
  const dir = artifactDir('pages');
  const shots = [];
  for (const [name, path] of Object.entries(PAGES)) {
    for (const [size, viewport] of Object.entries(SIZES)) {
      for (const colorScheme of ['light', 'dark']) {
        const page = await openPage(env.browser, `${env.daemon.url}${path}`, { viewport, colorScheme, locale: 'en-US' });
        try {
          await live(page);
          if (name === 'debug') {
            await waitFor('/status figures', () => page.$('#status-table tr[data-key="uptime_s"]'));
            await waitFor('the configuration', () => page.$('#config-table tr[data-key="frameMs"]'));
          }
          // Nothing may stick out sideways on a phone.
          const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
          assert.ok(overflow <= 0, `${name} at ${size} is ${overflow} px too wide`);
          const file = join(dir, `${name}-${size}-${colorScheme}.png`);
          await page.screenshot({ path: file, fullPage: true });
          shots.push(file);
          assert.deepEqual(page.problems, [], `${name} ${size} ${colorScheme}`);
        } finally {
          await page.context().close();
        }
      }
    }
  }
  console.log(`screenshots:\n${shots.join('\n')}`);
});

test('every control has an accessible name', async () => {
  for (const [name, path] of Object.entries(PAGES)) {
    const page = await openPage(env.browser, `${env.daemon.url}${path}`, { locale: 'en-US' });
    try {
      await live(page);
      const tree = await page.locator('body').ariaSnapshot();
      const unnamed = tree.split('\n').filter((line) => /^\s*- (button|slider|combobox|checkbox|textbox|meter|link)\s*(\[.*\])?:?$/.test(line));
      assert.deepEqual(unnamed, [], `${name} has unnamed controls:\n${tree}`);
      for (const role of ['button', 'slider', 'combobox']) assert.ok(tree.includes(`- ${role} "`), `${name}: no named ${role}`);
      assert.deepEqual(page.problems, []);
    } finally {
      await page.context().close();
    }
  }
});

test('the language follows the browser and the switch', async () => {
  const page = await openPage(env.browser, `${env.daemon.url}/talk`, { locale: 'zh-CN' });
  try {
    await live(page);
    assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
    assert.equal(await page.textContent('h1'), '对现场讲话');
    assert.equal(await page.textContent('#state'), '直播中');
    assert.equal(await page.textContent('#talk'), '按住说话');
    const file = join(artifactDir('pages'), 'talk-phone-zh.png');
    await page.screenshot({ path: file, fullPage: true });
    console.log(`screenshot: ${file}`);
    await page.selectOption('#lang', 'en');
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    assert.equal(await page.textContent('h1'), 'Talk to the room');
    assert.equal(await page.textContent('#state'), 'Live');
    assert.equal(await page.title(), 'Talk · clubvoice');
    await page.reload(); // the choice is remembered
    await live(page);
    assert.equal(await page.textContent('#talk'), 'Hold to talk');
    assert.deepEqual(page.problems, []);
  } finally {
    await page.context().close();
  }
});

test('the debug page shows live levels and the server figures', async () => {
  const page = await openPage(env.browser, `${env.daemon.url}/debug`, { locale: 'en-US' });
  try {
    await live(page);
    // The room plays a tone at -6 dBFS peak: the room meter must say so.
    const room = await waitFor('a room level', async () => {
      const text = await page.textContent('#level-room-value');
      const db = parseFloat(text);
      return Number.isFinite(db) && db > -20 ? db : null;
    }, 3000);
    assert.ok(room < 0, `room level ${room}`);
    await waitFor('the log', async () => (await page.textContent('#log')).includes('config'));
    assert.equal(await page.textContent('#config-table tr[data-key="codec"] td'), 'opus');
    await waitFor('clients in /status', () => page.$('#status-table tr[data-key="server.clients"]'));
    assert.deepEqual(page.problems, []);
  } finally {
    await page.context().close();
  }
});

test('the service worker caches the static files and nothing live', async () => {
  const page = await openPage(env.browser, env.daemon.url, { locale: 'en-US' });
  try {
    await live(page);
    const cached = await waitFor('the cache', () => page.evaluate(async () => {
      await navigator.serviceWorker.ready;
      const keys = await caches.keys();
      const mine = keys.find((k) => k.startsWith('clubvoice-'));
      if (!mine) return null;
      const requests = await (await caches.open(mine)).keys();
      return requests.length ? requests.map((r) => new URL(r.url).pathname) : null;
    }), 5000);
    for (const path of ['/', '/talk', '/debug', '/clubvoice.js', '/listen.js', '/style.css', '/manifest.webmanifest']) {
      assert.ok(cached.includes(path), `${path} not cached: ${cached}`);
    }
    assert.ok(!cached.some((p) => /socket\.io|status|health|metrics/.test(p)), `live paths cached: ${cached}`);
    const manifest = await (await fetch(`${env.daemon.url}/manifest.webmanifest`)).json();
    assert.equal(manifest.start_url, './');
    assert.deepEqual(page.problems, []);
  } finally {
    await page.context().close();
  }
});

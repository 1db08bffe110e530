// The debug page's live charts (web/app/live_charts.js, uPlot) against the
// real daemon while the room plays a tone: every chart fills with points,
// the levels chart shows the tone above silence, the loop chart carries the
// frame budget and the loop's longest pass, the charts follow the page's
// width, colours and language, and nothing is logged as an error or refused
// by a content security policy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { artifactDir, openPage, recordCspViolations, sleep, useDaemonAndBrowser, waitFor } from './harness.mjs';

const CHARTS = ['levels', 'player', 'listeners', 'loop'];

const env = useDaemonAndBrowser({ toneHz: 440 });

// A /debug page that also records CSP violations in window.cspViolations.
async function openDebug(contextOptions = {}) {
  const context = await env.browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'en-US', ...contextOptions });
  await recordCspViolations(context);
  const page = await openPage(env.browser, `${env.daemon.url}/debug`, {}, context);
  await waitFor('the page to be live', () => page.evaluate(() => window.clubvoice?.state === 'live'));
  return page;
}

const summary = (page) => page.evaluate(() => window.clubvoiceCharts.summary());

async function checkClean(page) {
  assert.deepEqual(await page.evaluate(() => window.cspViolations), []);
  assert.deepEqual(page.problems, []);
}

test('every chart fills with the room, the player, the listeners and the loop', async () => {
  const page = await openDebug();
  try {
    await page.click('#listen');
    await sleep(4000);
    const s = await waitFor('points in every series', async () => {
      const now = await summary(page);
      const filled = CHARTS.every((name) => Object.values(now[name].series).every((v) => !v.shown || v.points > 0));
      return filled ? now : null;
    }, 6000);
    console.log(JSON.stringify(s));

    // Sampled twice a second: about eight samples in four seconds.
    for (const name of ['levels', 'player', 'listeners']) {
      assert.ok(s[name].samples >= 6, `${name}: ${s[name].samples} samples`);
    }
    // The room plays a sine at half of full scale (-9 dBFS RMS); silence charts at -60.
    const room = s.levels.series.room;
    assert.ok(room.max > -20 && room.max <= 0, `room level ${room.max} dBFS`);
    assert.ok(s.levels.series.mic.shown && s.levels.series.mic.points > 0);
    // The server sends a music level, so it is charted.
    assert.equal(s.levels.series.music.shown, true);
    assert.equal(await page.isVisible('[data-series="music"]'), true);

    const player = s.player.series;
    assert.ok(player.latencyMs.last > 0, `latency ${player.latencyMs.last}`);
    assert.ok(player.bufferMs.last > 0 && player.bufferMs.last <= 200, `buffer ${player.bufferMs.last}`);
    assert.ok(player.targetMs.last > 0, `target ${player.targetMs.last}`);
    assert.ok(s.listeners.series.clients.last >= 1, `listeners ${s.listeners.series.clients.last}`);

    // The budget is one audio frame as /status reports it; the loop works.
    const status = await (await fetch(`${env.daemon.url}/status`)).json();
    assert.equal(s.loop.series.budgetMs.last, status.audio.encoder.frame_ms);
    assert.ok(s.loop.series.longestPassMs.max > 0, `longest pass ${s.loop.series.longestPassMs.max} ms`);
    assert.ok(s.loop.samples >= 3, `loop: ${s.loop.samples} samples`);

    // Each chart drew a canvas as wide as its card, and says its figures.
    for (const name of CHARTS) {
      const box = await page.evaluate((n) => {
        const plot = window.clubvoiceCharts.plots[n];
        return { plot: plot.width, card: plot.root.parentElement.clientWidth, canvas: plot.ctx.canvas.width };
      }, name);
      assert.ok(box.plot > 100 && box.plot === box.card && box.canvas > 0, `${name}: ${JSON.stringify(box)}`);
    }
    const label = (id) => page.getAttribute(`#${id}`, 'aria-label');
    assert.match(await label('levels-chart'), /^Levels over the last minute \(dBFS\): room -?\d+\.\d dBFS/);
    assert.match(await label('loop-chart'), /longest pass [\d.]+\sms, budget \(one audio frame\) \d+\sms/);

    // The numbers stay below the charts.
    await waitFor('the figures tables', () => page.$('#status-table tr[data-key="loop.longest_pass_last_s_ms"]'));
    const chartAboveTable = await page.evaluate(() =>
      document.getElementById('loop-chart').getBoundingClientRect().bottom <=
        document.getElementById('status-table').getBoundingClientRect().top);
    assert.ok(chartAboveTable, 'the loop chart is above the status table');
    await page.screenshot({ path: join(artifactDir('debug_charts'), 'debug-phone.png'), fullPage: true });
    await checkClean(page);
  } finally {
    await page.context().close();
  }
});

test('the charts follow the width, the colour scheme and the language', async () => {
  const page = await openDebug({ colorScheme: 'dark' });
  try {
    await waitFor('a levels point', async () => (await summary(page)).levels.series.room.points > 0);
    const widths = () => page.evaluate(() => Object.values(window.clubvoiceCharts.plots).map((p) => p.width));
    const narrow = await widths();
    await page.setViewportSize({ width: 1280, height: 800 });
    // Two columns of cards on a wide screen: each chart grows to its card.
    const wide = await waitFor('the charts to widen', async () => {
      const now = await widths();
      return now.every((w, i) => w > narrow[i] + 100) ? now : null;
    }, 3000);
    console.log(`chart widths: phone ${narrow}, desktop ${wide}`);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `${overflow} px too wide`);

    // Series take the page's colours: in dark mode the accent is the dark one.
    const colours = await page.evaluate(() => ({
      accent: getComputedStyle(document.documentElement).getPropertyValue('--accent').trim(),
      room: window.clubvoiceCharts.plots.levels.series[1]._stroke,
    }));
    assert.equal(colours.room, colours.accent);
    assert.equal(colours.accent, '#6aa8ff');

    await page.selectOption('#lang', 'zh-CN');
    const caption = await page.textContent('[data-i18n="debug.loopChart"]');
    assert.equal(caption, '服务器事件循环每秒最长的一轮处理（毫秒）');
    const label = () => page.getAttribute('#levels-chart', 'aria-label');
    await waitFor('a translated chart label', async () => (await label()).startsWith('最近一分钟的电平（dBFS）: 现场'), 3000);
    await page.screenshot({ path: join(artifactDir('debug_charts'), 'debug-desktop-dark-zh.png'), fullPage: true });
    await checkClean(page);
  } finally {
    await page.context().close();
  }
});

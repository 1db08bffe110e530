// The debug page's live charts: the figures that move, over the last minute,
// drawn with uPlot so that a rise, a backlog or a slow loop shows at a
// glance. Levels, the player and the listeners are sampled twice a second;
// the loop's figures arrive with each /status poll (once a second).
// window.clubvoiceCharts exposes the plots and a summary for the tests.
import uPlot from 'uplot';
import { language, onLanguageChange, t } from './i18n.js';

const WINDOW_S = 60;
const EVERY_MS = 500;
const FLOOR_DB = -60; // the meters' floor: silence (-120) draws along it

// Colours are the page's CSS variables, read again when the scheme flips.
const palette = {};
function readPalette() {
  const style = getComputedStyle(document.documentElement);
  for (const name of ['accent', 'live', 'warn', 'bad', 'muted', 'line', 'text']) {
    palette[name] = style.getPropertyValue(`--${name}`).trim();
  }
  palette.font = `11px ${getComputedStyle(document.body).fontFamily}`;
}

// The time axis reads as wall-clock seconds in the page's language.
let clock;
function makeClock() {
  clock = new Intl.DateTimeFormat(language(), { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
}

const now = () => Date.now() / 1000;

class LiveChart {
  // series: [{key, label (i18n key), color (palette name), dash?, show?}];
  // range(min, max) gives the y scale, ySplits fixed grid lines if any;
  // unit formats a value for the summary.
  constructor(el, { title, series, range, ySplits, unit, stepped = false }) {
    this.el = el;
    this.title = title;
    this.series = series;
    this.unit = unit;
    this.data = [[], ...series.map(() => [])];
    const axis = {
      stroke: () => palette.muted,
      font: palette.font,
      grid: { stroke: () => palette.line, width: 1 },
      ticks: { stroke: () => palette.line, width: 1, size: 4 },
    };
    const options = {
      width: el.clientWidth || 300,
      height: el.clientHeight || 140,
      legend: { show: false }, // the figcaption is the legend, translated like the page
      cursor: { show: false },
      scales: {
        x: { time: true, range: () => [now() - WINDOW_S, now()] },
        y: { range: (u, min, max) => range(min ?? 0, max ?? 0) },
      },
      axes: [
        // uPlot's default 50 px under the plot leaves a blank strip at this size.
        { ...axis, size: 30, space: 64, values: (u, splits) => splits.map((s) => clock.format(new Date(s * 1000))) },
        { ...axis, size: 40, splits: ySplits && (() => ySplits) },
      ],
      series: [
        {},
        ...series.map((s) => ({
          label: s.key,
          show: s.show ?? true,
          stroke: () => palette[s.color],
          width: 2,
          dash: s.dash,
          points: { show: false },
          paths: stepped ? uPlot.paths.stepped({ align: 1 }) : undefined,
        })),
      ],
    };
    this.plot = new uPlot(options, this.data, el);
    // Follow the card's width (the page reflows between one and two columns).
    new ResizeObserver(() => this.fit()).observe(el);
  }

  fit() {
    const width = this.el.clientWidth;
    const height = this.el.clientHeight;
    if (width > 0 && height > 0 && (width !== this.plot.width || height !== this.plot.height)) {
      this.plot.setSize({ width, height });
    }
  }

  // One sample: values in the order of the series, null for "no figure".
  push(values, at = now()) {
    this.data[0].push(at);
    values.forEach((v, i) => this.data[i + 1].push(Number.isFinite(v) ? v : null));
    // A little more than the window, so the line enters from the left edge.
    while (this.data[0].length && this.data[0][0] < at - WINDOW_S - 2) for (const column of this.data) column.shift();
    this.plot.setData(this.data);
    this.describe();
  }

  show(key, on) {
    const i = this.series.findIndex((s) => s.key === key);
    if (i >= 0 && this.plot.series[i + 1].show !== on) this.plot.setSeries(i + 1, { show: on });
  }

  // Screen readers get the latest figures instead of the picture.
  describe() {
    const last = this.data[0].length - 1;
    const figures = [];
    this.series.forEach((s, i) => {
      const v = this.data[i + 1][last];
      if (this.plot.series[i + 1].show && v !== null && v !== undefined) figures.push(`${t(s.label)} ${this.unit(v)}`);
    });
    const title = t(this.title);
    this.el.setAttribute('aria-label', figures.length ? `${title}: ${figures.join(', ')}` : title);
  }

  // For the tests: how many points each series holds, its latest and highest.
  summary() {
    const series = {};
    this.series.forEach((s, i) => {
      const values = this.data[i + 1].filter((v) => v !== null);
      series[s.key] = {
        shown: this.plot.series[i + 1].show,
        points: values.length,
        last: values.length ? values[values.length - 1] : null,
        max: values.length ? Math.max(...values) : null,
      };
    });
    return { samples: this.data[0].length, series };
  }
}

const roundUp = (v, step) => Math.max(step, Math.ceil(v / step) * step);
const dbfs = (v) => `${v.toFixed(1)} dBFS`;
const ms = (v) => t('ms', { n: Math.round(v * 10) / 10 });

// els: {levels, player, listeners, loop}: the elements the charts go in.
// Returns {status(json)}: debug.js hands it each /status answer (null when
// /status did not answer, which leaves a gap).
export function setupLiveCharts(room, els) {
  readPalette();
  makeClock();
  const charts = {
    levels: new LiveChart(els.levels, {
      title: 'debug.levelsChart',
      series: [
        { key: 'room', label: 'debug.chartRoom', color: 'accent' },
        { key: 'music', label: 'debug.chartMusic', color: 'warn', show: false },
        { key: 'mic', label: 'debug.chartMic', color: 'live' },
      ],
      range: () => [FLOOR_DB, 0],
      ySplits: [-60, -40, -20, 0],
      unit: dbfs,
    }),
    player: new LiveChart(els.player, {
      title: 'debug.latencyChart',
      series: [
        { key: 'latencyMs', label: 'debug.chartLatency', color: 'accent' },
        { key: 'bufferMs', label: 'debug.chartBuffer', color: 'live' },
        { key: 'targetMs', label: 'debug.chartTarget', color: 'muted', dash: [4, 3] },
      ],
      range: (min, max) => [0, roundUp(max, 50)],
      unit: ms,
    }),
    listeners: new LiveChart(els.listeners, {
      title: 'debug.listenersChart',
      series: [{ key: 'clients', label: 'debug.chartListeners', color: 'accent' }],
      range: (min, max) => [0, roundUp(max * 1.2, 2)],
      unit: (v) => String(v),
      stepped: true,
    }),
    loop: new LiveChart(els.loop, {
      title: 'debug.loopChart',
      series: [
        { key: 'longestPassMs', label: 'debug.chartPass', color: 'accent' },
        { key: 'budgetMs', label: 'debug.chartBudget', color: 'bad', dash: [4, 3] },
      ],
      // The budget line always in view, with room above it for a spike.
      range: (min, max) => [0, Math.max(1, max * 1.25)],
      unit: ms,
    }),
  };

  // Levels come at up to 10 Hz: a sample keeps the loudest of its interval,
  // so a short burst is not lost between two samples.
  let loudest = null;
  room.on('levels', (levels) => {
    loudest ??= {};
    for (const [key, v] of Object.entries(levels)) {
      if (Number.isFinite(v)) loudest[key] = Math.max(loudest[key] ?? -Infinity, v);
    }
    // Chart music only when the server reports it.
    if ('music' in levels && !charts.levels.plot.series[2].show) {
      charts.levels.show('music', true);
      els.levels.closest('figure')?.querySelector('[data-series="music"]')?.removeAttribute('hidden');
    }
  });

  setInterval(() => {
    const floor = (v) => (v === undefined ? null : Math.max(FLOOR_DB, Math.min(0, v)));
    charts.levels.push(['room', 'music', 'mic'].map((key) => (loudest ? floor(loudest[key]) : null)));
    loudest = null;
    const s = room.stats();
    const playing = room.listening && s.played > 0;
    charts.player.push(playing ? [s.latencyMs, s.bufferMs, s.targetMs] : [null, null, null]);
    charts.listeners.push([room.state === 'live' ? room.clients : null]);
  }, EVERY_MS);

  matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => {
    readPalette();
    for (const chart of Object.values(charts)) chart.plot.redraw(false);
  });
  onLanguageChange(() => {
    makeClock();
    for (const chart of Object.values(charts)) {
      chart.plot.redraw(false, true);
      chart.describe();
    }
  });

  window.clubvoiceCharts = {
    plots: Object.fromEntries(Object.entries(charts).map(([name, chart]) => [name, chart.plot])),
    summary: () => Object.fromEntries(Object.entries(charts).map(([name, chart]) => [name, chart.summary()])),
  };

  return {
    status(json) {
      // The budget is one audio frame: a longer pass delays the next frame.
      const budget = json?.audio?.encoder?.frame_ms ?? room.config?.frameMs;
      charts.loop.push(json ? [json.loop?.longest_pass_last_s_ms, budget] : [null, null]);
    },
  };
}

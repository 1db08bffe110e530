// The debug page's chart of the player over the last minute: capture-to-ear
// latency, the buffer's depth and its target, drawn on a canvas twice a
// second so that a rise or a backlog shows at a glance.
import { t } from './i18n.js';
import { ms } from './ui.js';

const SECONDS = 60;
const EVERY_MS = 500;
const SERIES = [
  { key: 'latencyMs', color: '--accent', dash: [] },
  { key: 'bufferMs', color: '--live', dash: [] },
  { key: 'targetMs', color: '--muted', dash: [4, 3] },
];

export function setupLatencyChart(room, canvas) {
  const points = []; // {latencyMs, bufferMs, targetMs}, oldest first
  const max = (SECONDS * 1000) / EVERY_MS;
  setInterval(() => {
    const s = room.stats();
    points.push(room.listening && s.played > 0 ? s : null);
    if (points.length > max) points.shift();
    draw(canvas, points, max);
  }, EVERY_MS);
}

function draw(canvas, points, max) {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth;
  const height = canvas.clientHeight;
  if (canvas.width !== Math.round(width * ratio)) canvas.width = Math.round(width * ratio);
  if (canvas.height !== Math.round(height * ratio)) canvas.height = Math.round(height * ratio);
  const g = canvas.getContext('2d');
  g.setTransform(ratio, 0, 0, ratio, 0, 0);
  g.clearRect(0, 0, width, height);
  const style = getComputedStyle(canvas);
  const live = points.filter(Boolean);
  // The scale: whole 50 ms steps above the highest point.
  const top = Math.max(50, Math.ceil(Math.max(0, ...live.map((p) => Math.max(p.latencyMs ?? 0, p.bufferMs))) / 50) * 50);
  g.font = '11px system-ui, sans-serif';
  g.fillStyle = style.getPropertyValue('--muted');
  g.strokeStyle = style.getPropertyValue('--line');
  g.lineWidth = 1;
  for (let v = 0; v <= top; v += top / 2) {
    const y = yOf(v, top, height);
    g.beginPath();
    g.moveTo(0, y);
    g.lineTo(width, y);
    g.stroke();
    g.fillText(t('ms', { n: v }), 2, Math.max(11, y - 2));
  }
  for (const { key, color, dash } of SERIES) {
    g.strokeStyle = style.getPropertyValue(color);
    g.setLineDash(dash);
    g.lineWidth = 2;
    g.beginPath();
    let drawing = false;
    points.forEach((p, i) => {
      const v = p?.[key];
      if (typeof v !== 'number') {
        drawing = false;
        return;
      }
      const x = ((i + max - points.length) / (max - 1)) * width;
      if (drawing) g.lineTo(x, yOf(v, top, height));
      else g.moveTo(x, yOf(v, top, height));
      drawing = true;
    });
    g.stroke();
  }
  g.setLineDash([]);
  // Screen readers get the latest figures instead of the picture.
  const last = live[live.length - 1];
  const figures = last && t('stats.line', {
    latency: ms(last.latencyMs),
    buffer: ms(last.bufferMs),
    target: ms(last.targetMs),
    concealed: last.concealed,
  });
  canvas.setAttribute('aria-label', last ? `${t('debug.latencyChart')}: ${figures}` : t('debug.latencyChart'));
}

function yOf(v, top, height) {
  return height - 2 - (v / top) * (height - 4);
}

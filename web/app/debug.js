// The debug page (/debug): the connection, the room's configuration, live
// levels from the `levels` event, the player's figures, the server's
// /status figures (with an admin token where the server asks for one), and
// a log of events; the figures that move are also charted over the last
// minute (live_charts.js).
import { adminToken, linkToken, setAdminToken } from './access.js';
import { onLanguageChange, t } from './i18n.js';
import { setupListenPanel } from './listen_panel.js';
import { setupLiveCharts } from './live_charts.js';
import { $, Meter, showConnection, startPage } from './ui.js';

const LOG_LINES = 200;
const room = startPage();
showConnection(room, $('state'), $('listeners'));
setupListenPanel(room);
const charts = setupLiveCharts(room, {
  levels: $('levels-chart'),
  player: $('player-chart'),
  listeners: $('listeners-chart'),
  loop: $('loop-chart'),
});

// Nested objects become dotted names: {audio: {mode: 'full'}} -> audio.mode.
function flatten(value, prefix = '', out = []) {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const [key, inner] of Object.entries(value)) flatten(inner, prefix ? `${prefix}.${key}` : key, out);
  } else {
    out.push([prefix, Array.isArray(value) ? JSON.stringify(value) : value]);
  }
  return out;
}

function format(value) {
  if (typeof value === 'number' && !Number.isInteger(value)) return value.toFixed(2);
  if (value === null || value === undefined) return '–';
  return String(value);
}

// Rows keyed by name, updated in place so that the table does not flicker.
function fillTable(tbody, entries) {
  const rows = new Map([...tbody.rows].map((row) => [row.dataset.key, row]));
  for (const [key, value] of entries) {
    let row = rows.get(key);
    if (!row) {
      row = tbody.insertRow();
      row.dataset.key = key;
      const th = document.createElement('th');
      th.scope = 'row';
      th.textContent = key;
      row.append(th);
      row.insertCell();
    }
    rows.delete(key);
    const text = format(value);
    if (row.cells[1].textContent !== text) row.cells[1].textContent = text;
  }
  for (const stale of rows.values()) stale.remove();
}

const logList = $('log');
function log(event, detail) {
  const item = document.createElement('li');
  const time = new Date().toISOString().slice(11, 23);
  item.textContent = `${time} ${event}${detail === undefined ? '' : ` ${JSON.stringify(detail)}`}`;
  logList.prepend(item);
  while (logList.children.length > LOG_LINES) logList.lastElementChild.remove();
}
$('clear-log').addEventListener('click', () => logList.replaceChildren());

room.on('state', (state) => log('state', state));
room.on('config', (config) => {
  log('config', config);
  fillTable($('config-table'), flatten(config));
});
room.on('clients', (count) => log('clients', count));
room.on('talk_state', (state) => log('talk_state', state));
room.on('error', (err) => log('error', err.message));
room.on('reconnect_attempt', (n) => log('reconnect_attempt', n));

const meters = {
  room: new Meter($('level-room')),
  music: new Meter($('level-music')),
  mic: new Meter($('level-mic')),
};
let lastLevels = 0;
room.levels(true);
room.on('levels', (levels) => {
  for (const [name, meter] of Object.entries(meters)) {
    meter.set(levels[name]);
    $(`level-${name}-value`).textContent = Number.isFinite(levels[name]) ? `${levels[name].toFixed(1)} dBFS` : '–';
  }
  // Ten a second would drown the log: one line in five seconds.
  if (performance.now() - lastLevels > 5000) {
    lastLevels = performance.now();
    log('levels', levels);
  }
});

const connectionFigures = () => [
  ['state', room.state],
  ['id', room.id ?? null],
  ['transport', room.stats().transport],
  ['clients', room.clients],
];

const showFigures = () => {
  fillTable($('connection-table'), connectionFigures());
  fillTable($('player-table'), Object.entries(room.stats()));
};
setInterval(showFigures, 500);
room.on('state', showFigures);
room.on('clients', showFigures);
showFigures();

const statusProblem = $('status-problem');
const adminForm = $('admin-form');
const adminInput = $('admin-token');
const adminWhy = $('admin-why');
let pollTimer = null;

// /status answers 401 (no token, or one it does not know) or 403 (a token
// without the admin role) unless this client's address is in the server's
// admin networks. The page offers the token typed into its form, else the
// link's (an admin's link opens the figures too); when the link's is not
// enough it asks again without it, and then, if need be, the form asks for
// an admin token, kept for this tab (access.js).
let offerLink = true;
const bearer = () => adminToken() ?? (offerLink ? linkToken() : undefined);

function askForAdminToken(why) {
  adminWhy.dataset.why = why;
  adminWhy.textContent = t(why);
  adminForm.hidden = false;
}

let polling = false;
// The music ducking's state next to the music level (admin figures only).
function showDucking(music) {
  const out = $('music-ducking');
  out.hidden = !music;
  if (!music) return;
  out.textContent = t(music.ducked ? 'debug.musicDucked' : 'debug.musicNormal');
  out.dataset.state = music.ducked ? 'ducked' : 'normal';
}

async function pollStatus() {
  if (polling) return; // the poll under way schedules the next
  polling = true;
  clearTimeout(pollTimer);
  const typed = adminToken();
  const token = bearer();
  let next = 1000;
  try {
    const response = await fetch(new URL('status', location.href), {
      cache: 'no-store',
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
    if (response.status === 401 || response.status === 403) {
      fillTable($('status-table'), []);
      charts.status(null);
      statusProblem.hidden = true;
      if (adminToken() !== typed) {
        next = 0; // a token was entered meanwhile: try it at once
      } else if (token && !typed) {
        offerLink = false; // the link's token is not an admin's: ask without it
        next = 0;
      } else {
        setAdminToken(null); // a typed token that failed is not offered again
        askForAdminToken(response.status === 403 ? 'debug.adminNotAdmin' : token ? 'debug.adminInvalid' : 'debug.adminNeeded');
        next = null; // polled again when a token is entered
      }
    } else {
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const status = await response.json();
      adminForm.hidden = true;
      fillTable($('status-table'), flatten(status));
      charts.status(status);
      showDucking(status.music);
      statusProblem.hidden = true;
    }
  } catch (err) {
    charts.status(null);
    statusProblem.textContent = t('debug.statusFailed', { message: err.message });
    statusProblem.hidden = false;
  } finally {
    polling = false;
    if (next !== null) pollTimer = setTimeout(pollStatus, next);
  }
}

adminForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const token = adminInput.value.trim();
  if (!token) return;
  adminInput.value = '';
  setAdminToken(token);
  pollStatus();
});

pollStatus();
onLanguageChange(() => {
  showFigures();
  if (adminWhy.dataset.why) adminWhy.textContent = t(adminWhy.dataset.why);
});

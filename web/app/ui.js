// What every page shares: the language switch, the service worker, the
// connection to the room (exposed as window.clubvoice) with the link's
// token, the connection state line and level meters.
import { connect } from '../sdk/clubvoice.js';
import { REFUSALS, forgetLinkToken, takeLinkToken } from './access.js';
import { onLanguageChange, setupLanguageSwitch, t } from './i18n.js';

export function $(id) {
  return document.getElementById(id);
}

// Connects to the server that served the page; under a reverse proxy the
// Socket.IO path follows the page's directory. A share link's token goes
// into the CONNECT auth (and out of the address bar: access.js).
export function startPage(options = {}) {
  const token = takeLinkToken();
  setupLanguageSwitch($('lang'));
  registerServiceWorker();
  const path = new URL('socket.io/', location.href).pathname;
  // ?decoder=wasm and ?playback=background choose for this visit (tests, links).
  const query = new URLSearchParams(location.search);
  const decoder = query.get('decoder') ?? 'auto';
  const playback = query.get('playback') ?? 'low-latency';
  const room = connect(undefined, { path, decoder, playback, token, ...options });
  room.on('state', (state) => {
    if (state === 'refused' && REFUSALS[room.refusal] === 'invalid') forgetLinkToken();
  });
  window.clubvoice = room;
  return room;
}

function registerServiceWorker() {
  if (!('serviceWorker' in navigator) || !globalThis.isSecureContext) return;
  navigator.serviceWorker.register('sw.js').catch(() => {
    // Without it the page works the same, only not offline-installable.
  });
}

// The connection state line: its text and a data-state for the styling;
// a refused token is said in the page's language (data-refusal: invalid,
// needed).
export function showConnection(room, stateEl, listenersEl) {
  const render = () => {
    const refusal = room.state === 'refused' ? REFUSALS[room.refusal] : undefined;
    stateEl.dataset.state = room.state;
    if (refusal) stateEl.dataset.refusal = refusal;
    else delete stateEl.dataset.refusal;
    stateEl.textContent = refusal ? t(`state.refused.${refusal}`) : t(`state.${room.state}`, { reason: room.refusal ?? '' });
    if (listenersEl) {
      const n = room.clients;
      listenersEl.textContent =
        n === null ? t('listeners.unknown') : t(n === 1 ? 'listeners.one' : 'listeners.other', { n });
    }
  };
  room.on('state', render);
  room.on('clients', render);
  onLanguageChange(render);
  render();
}

export function ms(value) {
  return value === null || value === undefined || Number.isNaN(value) ? t('unknown') : t('ms', { n: Math.round(value) });
}

// A horizontal level bar for dBFS values (-60..0), exposed as an ARIA meter.
export class Meter {
  constructor(el) {
    this.el = el;
    this.bar = el.querySelector('span');
    this.lastAria = 0;
    this.set(-120);
  }

  set(db) {
    const clamped = Math.max(-60, Math.min(0, Number.isFinite(db) ? db : -120));
    this.bar.style.width = `${((clamped + 60) / 60) * 100}%`;
    this.el.dataset.hot = clamped > -3 ? 'yes' : 'no';
    // Screen readers only need the figure now and then.
    const now = performance.now();
    if (now - this.lastAria > 1000) {
      this.lastAria = now;
      this.el.setAttribute('aria-valuenow', String(Math.round(clamped)));
      this.el.setAttribute('aria-valuetext', `${Math.round(clamped)} dBFS`);
    }
  }
}

// Level of what an AnalyserNode hears, in dBFS (RMS).
export function analyserLevel(analyser, buffer) {
  analyser.getFloatTimeDomainData(buffer);
  let sum = 0;
  for (const v of buffer) sum += v * v;
  const rms = Math.sqrt(sum / buffer.length);
  return rms > 0 ? 20 * Math.log10(rms) : -120;
}

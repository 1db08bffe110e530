// The listening controls shared by / and /talk: the start button, volume,
// the room level meter, the figures line, Media Session play/pause, and
// where the page has it, the lock-screen toggle (playback_toggle.js).
import { onLanguageChange, t } from './i18n.js';
import { setupPlaybackToggle } from './playback_toggle.js';
import { $, Meter, analyserLevel, ms } from './ui.js';

const VOLUME_KEY = 'clubvoice.volume';

export function setupListenPanel(room) {
  const button = $('listen');
  const volume = $('volume');
  const figures = $('figures');
  const problem = $('listen-problem');
  const meter = new Meter($('room-level'));
  let starting = false;
  setupPlaybackToggle(room);

  const render = () => {
    button.textContent = t(starting ? 'listen.starting' : room.listening ? 'listen.stop' : 'listen.start');
    button.setAttribute('aria-pressed', String(room.listening));
    // Refused (a link is needed, or this one is not valid): nothing will play.
    button.disabled = room.state === 'refused' && !room.listening;
    if ('mediaSession' in navigator) navigator.mediaSession.playbackState = room.listening ? 'playing' : 'paused';
  };

  const start = async () => {
    starting = true;
    problem.hidden = true;
    render();
    try {
      await room.listen();
      setMediaSession(room, start, stop);
    } catch (err) {
      room.pause();
      problem.textContent = err.kind === 'insecure' ? t('listen.insecure') : t('listen.failed', { message: err.message });
      problem.hidden = false;
    } finally {
      starting = false;
      render();
    }
  };
  const stop = () => {
    room.pause();
    render();
  };
  button.addEventListener('click', () => (room.listening ? stop() : start()));

  const savedVolume = readVolume();
  volume.value = String(savedVolume);
  room.volume = savedVolume / 100;
  volume.addEventListener('input', () => {
    room.volume = Number(volume.value) / 100;
    try {
      localStorage.setItem(VOLUME_KEY, volume.value);
    } catch {
      // storage blocked: the volume lasts for this page only
    }
  });

  const samples = new Float32Array(2048);
  const animate = () => {
    meter.set(room.listening && room.analyser ? analyserLevel(room.analyser, samples) : -120);
    requestAnimationFrame(animate);
  };
  requestAnimationFrame(animate);

  const showFigures = () => {
    if (!room.listening) {
      figures.textContent = t('stats.idle');
      return;
    }
    const s = room.stats();
    if (s.played === 0) {
      figures.textContent = t('stats.waiting');
      figures.removeAttribute('title');
      return;
    }
    figures.textContent = t('stats.line', {
      latency: ms(s.latencyMs),
      buffer: ms(s.bufferMs),
      target: ms(s.targetMs),
      concealed: s.concealed,
    });
    // One tooltip says what the latency is made of.
    const parts = { device: ms(s.outputLatencyMs), buffer: ms(s.bufferMs) };
    figures.title = t(s.outputLatencyMs === null ? 'stats.tooltipNoDevice' : 'stats.tooltip', parts);
  };
  setInterval(showFigures, 500);
  room.on('listening', () => {
    render();
    showFigures();
  });
  room.on('state', (state) => {
    if (state === 'refused' && room.listening) stop();
    else render();
  });
  onLanguageChange(() => {
    render();
    showFigures();
  });
  render();
  showFigures();
}

function readVolume() {
  try {
    const v = Number(localStorage.getItem(VOLUME_KEY));
    return localStorage.getItem(VOLUME_KEY) !== null && v >= 0 && v <= 100 ? v : 80;
  } catch {
    return 80;
  }
}

// Lock-screen and headset controls.
function setMediaSession(room, play, pause) {
  if (!('mediaSession' in navigator)) return;
  const session = navigator.mediaSession;
  if (!session.metadata) {
    session.metadata = new MediaMetadata({
      title: t('listen.heading'),
      artist: location.host,
      album: 'clubvoice',
      artwork: [{ src: new URL('icon.svg', location.href).href, sizes: 'any', type: 'image/svg+xml' }],
    });
  }
  for (const [action, handler] of [['play', play], ['pause', pause], ['stop', pause]]) {
    try {
      session.setActionHandler(action, handler);
    } catch {
      // an action this browser does not know
    }
  }
}

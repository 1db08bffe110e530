// "Keep playing when the screen locks": on phones and tablets the listen
// page offers the SDK's background path (sdk/output.js), on by default
// there, because their systems stop a page's Web Audio output when the
// screen locks but keep a media element playing. The choice is remembered;
// a ?playback= query (ui.js) decides for the visit instead. Desktops keep
// the low-latency path and are not offered the toggle.
import { $ } from './ui.js';

const KEY = 'clubvoice.background';

// A phone or tablet: a touch screen as the main pointer (iPadOS says it is a
// Mac, but its pointer is coarse), or a browser that says it is mobile.
export function isHandheld() {
  if (navigator.userAgentData?.mobile) return true;
  if (globalThis.matchMedia?.('(pointer: coarse)').matches) return true;
  return /Android|iPhone|iPad|iPod|Mobile/i.test(navigator.userAgent);
}

function saved() {
  try {
    const v = localStorage.getItem(KEY);
    return v === null ? null : v === '1';
  } catch {
    return null; // storage blocked: the default
  }
}

export function setupPlaybackToggle(room) {
  const box = $('background');
  if (!box || !isHandheld()) return;
  if (!new URLSearchParams(location.search).has('playback')) {
    room.playback = (saved() ?? true) ? 'background' : 'low-latency';
  }
  box.checked = room.playback === 'background';
  box.closest('label').hidden = false;
  // A change event is a user gesture: while listening, the element may start.
  box.addEventListener('change', () => {
    room.playback = box.checked ? 'background' : 'low-latency';
    try {
      localStorage.setItem(KEY, box.checked ? '1' : '0');
    } catch {
      // storage blocked: the choice lasts for this page only
    }
  });
}

// The talk controls of /talk: push-to-talk by holding the button or the
// space bar, a toggle mode, the floor or talkers line, the microphone meter
// and plain-language microphone errors. Where this client may not talk (a
// listen-only room, or a link without the right to talk) the button is
// disabled and the hint under it says why.
import { REFUSALS, talkBlock } from './access.js';
import { onLanguageChange, t } from './i18n.js';
import { $, Meter } from './ui.js';

const NAME_KEY = 'clubvoice.name';
const LATCH_KEY = 'clubvoice.latch';

export function savedName() {
  try {
    return localStorage.getItem(NAME_KEY) ?? '';
  } catch {
    return '';
  }
}

function remember(key, value) {
  try {
    localStorage.setItem(key, value);
  } catch {
    // storage blocked: the setting lasts for this page only
  }
}

export function setupTalkPanel(room) {
  const button = $('talk');
  const latch = $('latch');
  const help = $('talk-help');
  const floor = $('floor');
  const problem = $('talk-problem');
  const name = $('name');
  const micMeter = new Meter($('mic-level'));
  let phase = 'idle'; // idle | asking | talking
  let want = false;

  try {
    latch.checked = localStorage.getItem(LATCH_KEY) === '1';
  } catch {
    latch.checked = false;
  }
  name.value = savedName();

  const render = () => {
    const latched = latch.checked;
    const key = phase === 'asking' ? 'talk.asking' : phase === 'talking'
      ? (latched ? 'talk.talkingLatched' : 'talk.talking')
      : (latched ? 'talk.press' : 'talk.hold');
    button.textContent = t(key);
    button.setAttribute('aria-pressed', String(phase === 'talking'));
    button.dataset.phase = phase;
    // Why not, as a message key: the server refused the link, or this
    // client may listen but not talk.
    const refusal = room.state === 'refused' ? REFUSALS[room.refusal] : undefined;
    const blocked = refusal ? `state.refused.${refusal}` : talkBlock(room.config);
    button.disabled = room.state !== 'live' || Boolean(blocked);
    help.textContent = t(blocked ?? (latched ? 'talk.helpLatched' : 'talk.help'));
    if (blocked) help.dataset.blocked = blocked;
    else delete help.dataset.blocked;
    renderFloor();
  };

  const renderFloor = () => {
    const state = room.talkState ?? { talkers: [], floor: null };
    const who = (p) => (p.id === room.id ? t('you') : p.name || t('someone'));
    if (room.config?.mode === 'half') {
      if (!state.floor) floor.textContent = t('floor.free');
      else if (state.floor.id === room.id) floor.textContent = t('floor.you');
      else floor.textContent = t('floor.other', { name: who(state.floor) });
    } else {
      const talkers = state.talkers ?? [];
      floor.textContent = talkers.length
        ? t('talkers.list', { names: talkers.map(who).join(', ') })
        : t('talkers.none');
    }
  };

  const showProblem = (text) => {
    problem.textContent = text;
    problem.hidden = !text;
  };

  const press = async () => {
    // Chromium still sends pointer events to a disabled button.
    if (want || button.disabled) return;
    want = true;
    phase = 'asking';
    showProblem('');
    render();
    try {
      const answer = await room.talk(true);
      if (!answer.granted && want) {
        // Say who holds the floor in the page's language; other reasons as the server gave them.
        let reason = answer.reason ?? '';
        if (answer.holder) reason = t('floor.other', { name: answer.holder.name || t('someone') });
        else if (reason === 'no answer from the server') reason = t('talk.noAnswer');
        else if (reason === 'a talker token is needed') reason = t('talk.tokenNeeded');
        showProblem(t('talk.refused', { reason }));
      }
    } catch (err) {
      showProblem(err.kind ? t(`mic.${err.kind}`, { message: err.message }) : t('mic.failed', { message: err.message }));
    }
    if (!room.talking) {
      want = false;
      phase = 'idle';
    } else {
      phase = 'talking';
    }
    render();
  };

  const release = () => {
    if (!want) return;
    want = false;
    phase = 'idle';
    room.talk(false);
    render();
  };

  // Mouse and touch: hold in hold mode; in toggle mode the click decides.
  button.addEventListener('pointerdown', (event) => {
    if (latch.checked || event.button !== 0) return;
    button.setPointerCapture(event.pointerId);
    press();
  });
  for (const type of ['pointerup', 'pointercancel']) {
    button.addEventListener(type, () => {
      if (!latch.checked) release();
    });
  }
  button.addEventListener('click', (event) => {
    // A pointer click in hold mode was handled by pointerdown/up; keyboard
    // and screen-reader activation (detail 0) and toggle mode toggle.
    if (!latch.checked && event.detail !== 0) return;
    if (want) release();
    else press();
  });
  button.addEventListener('contextmenu', (event) => event.preventDefault()); // long press on phones

  // The space bar anywhere on the page, except where it already means
  // something: typing, or another control that the keyboard focused. A
  // control clicked with the mouse gives the focus back, so that the space
  // bar talks again.
  const busy = (el) => el && el !== button && el !== document.body &&
    (el.isContentEditable || ['INPUT', 'SELECT', 'TEXTAREA', 'BUTTON', 'A'].includes(el.tagName));
  document.addEventListener('pointerup', (event) => {
    const el = event.target.closest?.('button, a, input[type="checkbox"], input[type="range"]');
    if (el && el !== button && document.activeElement === el) el.blur();
  });
  window.addEventListener('keydown', (event) => {
    if (event.code !== 'Space' || busy(event.target) || button.disabled) return;
    event.preventDefault(); // no scrolling, no click on a focused button
    if (event.repeat) return;
    if (latch.checked) (want ? release : press)();
    else press();
  });
  window.addEventListener('keyup', (event) => {
    if (event.code !== 'Space') return;
    if (event.target === button) event.preventDefault(); // keydown acted: no click as well
    if (latch.checked || !want) return;
    event.preventDefault();
    release();
  });
  window.addEventListener('blur', () => {
    if (!latch.checked) release(); // the key-up would never come
  });

  latch.addEventListener('change', () => {
    remember(LATCH_KEY, latch.checked ? '1' : '0');
    release();
    render();
  });
  name.addEventListener('change', () => {
    remember(NAME_KEY, name.value.trim());
    room.setName(name.value.trim());
  });

  room.on('mic_level', (db) => micMeter.set(db));
  room.on('talking', (on) => {
    if (!on && phase === 'talking') {
      want = false;
      phase = 'idle';
    }
    render();
  });
  room.on('error', (err) => {
    if (err.name === 'MicError') showProblem(t(`mic.${err.kind}`, { message: err.message }));
  });
  for (const event of ['talk_state', 'state', 'config']) room.on(event, render);
  onLanguageChange(render);
  render();
}

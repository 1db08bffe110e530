// Chooses the page language (a saved choice, else the browser's languages)
// and translates every element marked with data-i18n (its text) or
// data-i18n-label (its aria-label).
import { LANGUAGES, messages } from './messages.js';

const STORAGE_KEY = 'clubvoice.lang';
const listeners = new Set();
let current = 'en';

function saved() {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null; // storage blocked: just do not remember
  }
}

export function pickLanguage() {
  const choice = saved();
  if (choice && messages[choice]) return choice;
  for (const tag of navigator.languages ?? [navigator.language]) {
    if (/^zh\b/i.test(tag)) return 'zh-CN';
    if (/^en\b/i.test(tag)) return 'en';
  }
  return 'en';
}

export function t(key, vars = {}) {
  const text = messages[current][key] ?? messages.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ''));
}

export function language() {
  return current;
}

export function onLanguageChange(fn) {
  listeners.add(fn);
}

export function setLanguage(lang, remember = false) {
  current = messages[lang] ? lang : 'en';
  document.documentElement.lang = current;
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll('[data-i18n-label]')) el.setAttribute('aria-label', t(el.dataset.i18nLabel));
  if (remember) {
    try {
      localStorage.setItem(STORAGE_KEY, current);
    } catch {
      // storage blocked: the choice lasts for this page only
    }
  }
  for (const fn of listeners) fn(current);
}

// Fills the language <select> and applies the chosen language.
export function setupLanguageSwitch(select) {
  for (const [tag, name] of Object.entries(LANGUAGES)) {
    const option = document.createElement('option');
    option.value = tag;
    option.lang = tag;
    option.textContent = name;
    select.append(option);
  }
  const lang = pickLanguage();
  select.value = lang;
  select.addEventListener('change', () => setLanguage(select.value, true));
  setLanguage(lang);
}

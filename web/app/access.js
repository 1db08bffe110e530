// The room's tokens as the pages keep them. A share link (/talk?token=…,
// /?token=…) hands the page a token: the page takes it out of the address
// bar at once (history.replaceState) and keeps it for this tab only
// (sessionStorage), so a reload and the other pages of the tab still use it
// while location.href, the history and a copied address never show it. The
// debug page keeps an admin token typed into its form the same way.
const LINK_KEY = 'clubvoice.token';
const ADMIN_KEY = 'clubvoice.adminToken';

// Where sessionStorage is blocked, the tokens last for this page only.
const fallback = new Map();

function read(key) {
  try {
    return sessionStorage.getItem(key) ?? fallback.get(key) ?? null;
  } catch {
    return fallback.get(key) ?? null;
  }
}

function write(key, value) {
  if (value) fallback.set(key, value);
  else fallback.delete(key);
  try {
    if (value) sessionStorage.setItem(key, value);
    else sessionStorage.removeItem(key);
  } catch {
    // storage blocked: the fallback keeps it
  }
}

// The token for the CONNECT auth: the link's, else the one this tab kept.
export function takeLinkToken() {
  const url = new URL(location.href);
  if (url.searchParams.has('token')) {
    const token = url.searchParams.get('token').trim();
    url.searchParams.delete('token');
    history.replaceState(history.state, '', url.pathname + url.search + url.hash);
    if (token) write(LINK_KEY, token);
  }
  return linkToken();
}

// The server refused the link's token: forget it, so that this tab's other
// pages and a reload do not keep offering it.
export function forgetLinkToken() {
  write(LINK_KEY, null);
}

// The link's token, as takeLinkToken() kept it.
export function linkToken() {
  return read(LINK_KEY) ?? undefined;
}

// The admin token typed into the debug page's form, if any.
export function adminToken() {
  return read(ADMIN_KEY) ?? undefined;
}

export function setAdminToken(token) {
  write(ADMIN_KEY, token);
}

// The server's CONNECT_ERROR messages for a token, as message keys.
export const REFUSALS = {
  'invalid token': 'invalid',
  'a token is needed to listen': 'needed',
};

// Why this client may not talk, as a message key; null when it may.
export function talkBlock(config) {
  if (!config || config.canTalk !== false) return null;
  return config.mode === 'listen' ? 'talk.listenOnly' : 'talk.linkNeeded';
}

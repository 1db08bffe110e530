// The service worker: keeps the static files (pages, scripts, styles, icons)
// for offline start and installation. Live traffic (/socket.io/, /status,
// /health, /metrics) is never touched. Network first, so an updated daemon's
// files show at once; the cache answers only when the network does not.
// SW_VERSION and SW_FILES are filled in by the build.
/* global SW_VERSION, SW_FILES */
const CACHE = `clubvoice-${SW_VERSION}`;
const scope = new URL(self.registration.scope);
const STATIC = new Set(SW_FILES.map((file) => new URL(file, scope).pathname));

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(SW_FILES.map((file) => new URL(file, scope).href)))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith('clubvoice-') && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== scope.origin || !STATIC.has(url.pathname)) return;
  event.respondWith(
    fetch(request)
      .then((response) => {
        if (response.ok) {
          // Kept under the bare path: a share link's ?token= never reaches the cache.
          const copy = response.clone();
          caches.open(CACHE).then((cache) => cache.put(url.origin + url.pathname, copy));
        }
        return response;
      })
      .catch(() => caches.match(request, { ignoreSearch: true }).then((hit) => hit ?? Response.error())),
  );
});

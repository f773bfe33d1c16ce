// The service worker: serves the app's shell (its own pages, scripts, styles, icons and public
// config.json) when the network is down, and nothing else. Network first, so a deploy is seen on
// the next visit; the cache is only the fallback. API and Cognito answers are never cached: they
// belong to a person (the page keeps the last balance itself and forgets it at log-out).
const CACHE = 'renewal-shell-v1';
const SHELL = [
  './',
  'index.html',
  'app.js',
  'styles.css',
  'favicon.svg',
  'config.json',
  'manifest.webmanifest',
  'manifest.zh-CN.webmanifest',
  'icons/icon.svg',
  'icons/icon-192.png',
  'icons/icon-512.png',
  'lib/api.js',
  'lib/cognito.js',
  'lib/config.js',
  'lib/i18n.js',
  'lib/ui.js',
  'store/',
  'store/index.html',
  'store/store.js',
];
const SCOPE = new URL('./', self.location).href;
const SHELL_URLS = new Set(SHELL.map((path) => new URL(path, SCOPE).href));

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((key) => key !== CACHE).map((key) => caches.delete(key))))
    .then(() => self.clients.claim()));
});

// The shell file a request stands for: a page visit (with any query, e.g. back from Checkout) is
// its directory's index; anything not in the shell is left to the network.
function shellKey(request) {
  if (request.method !== 'GET') return null;
  const url = new URL(request.url);
  url.search = '';
  url.hash = '';
  if (request.mode === 'navigate' && url.href.endsWith('/index.html')) return url.href.replace(/index\.html$/, '');
  return SHELL_URLS.has(url.href) ? url.href : null;
}

self.addEventListener('fetch', (event) => {
  const key = shellKey(event.request);
  if (!key) return;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    try {
      const response = await fetch(event.request);
      if (response.ok) await cache.put(key, response.clone());
      return response;
    } catch (error) {
      const cached = await cache.match(key);
      if (cached) return cached;
      throw error;
    }
  })());
});

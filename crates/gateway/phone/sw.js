// The phone page's service worker: the page's own files are kept so that it opens
// without signal (the outbox is in IndexedDB, the feed resumes when there is signal);
// nothing under /api/ and no photo is cached here. A notification's tap opens the page.
'use strict';
const CACHE = 'yiping-m-v1';
const SHELL = ['/m/', '/m/app.js', '/m/outbox.js', '/m/photo.js', '/m/app.css', '/m/manifest.webmanifest', '/m/icon-192.png', '/m/icon-512.png'];

self.addEventListener('install', (e) => {
  e.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});
self.addEventListener('activate', (e) => {
  e.waitUntil(caches.keys().then((ks) => Promise.all(ks.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});
// The network first (a new version of the page at once), the kept copy without signal.
self.addEventListener('fetch', (e) => {
  const url = new URL(e.request.url);
  if (e.request.method !== 'GET' || url.origin !== location.origin || !SHELL.includes(url.pathname === '/m' ? '/m/' : url.pathname)) return;
  e.respondWith(fetch(e.request).then((r) => {
    const copy = r.clone();
    if (r.ok) caches.open(CACHE).then((c) => c.put(e.request, copy));
    return r;
  }).catch(() => caches.match(e.request, { ignoreSearch: true })));
});
self.addEventListener('notificationclick', (e) => {
  e.notification.close();
  e.waitUntil(self.clients.matchAll({ type: 'window' }).then((ws) => (ws[0] ? ws[0].focus() : self.clients.openWindow('/m/'))));
});

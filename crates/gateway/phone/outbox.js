// The outbox: every action and report is queued here first (IndexedDB, with its photos),
// then sent in order whenever there is signal. Each item carries an idempotency key made
// on the phone when the person acted: a send repeated after a lost answer is applied once
// by the gateway. A refusal (the ticket was re-assigned meanwhile) stays, with the
// gateway's words, until the person has read it.
'use strict';
const Outbox = (() => {
  let db = null;
  let running = false;
  const listeners = [];

  function open() {
    return new Promise((res, rej) => {
      const r = indexedDB.open('yiping-outbox', 1);
      r.onupgradeneeded = () => r.result.createObjectStore('items', { keyPath: 'n', autoIncrement: true });
      r.onsuccess = () => { db = r.result; res(db); };
      r.onerror = () => rej(r.error);
    });
  }
  function store(mode) { return db.transaction('items', mode).objectStore('items'); }
  function done(r) {
    return new Promise((res, rej) => { r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
  }
  async function all() { return db ? done(store('readonly').getAll()) : []; }
  async function put(item) { await done(store('readwrite').put(item)); changed(); }
  async function remove(n) { await done(store('readwrite').delete(n)); changed(); }
  function changed() { for (const f of listeners) f(); }

  // 32 hex digits from the phone's own randomness (crypto.randomUUID needs https).
  function newKey() {
    const b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return 'm-' + Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  }

  // Queue an action: {label, ticket, command, field: {pos, at_ms}, photos: [{slot, blob}]}.
  async function add(item) {
    item.key = newKey();
    item.state = 'waiting';
    item.made = Date.now();
    item.photos = item.photos || [];
    const n = await done(store('readwrite').add(item));
    changed();
    return n;
  }

  // What an HTTP answer means for the item: sent, refused for good, or try again later.
  async function verdict(r) {
    if (r.ok) return { sent: true, body: await r.json().catch(() => ({})) };
    const body = await r.json().catch(() => ({}));
    const again = r.status === 408 || r.status === 429 || r.status >= 500 || r.status === 401;
    return { sent: false, again, status: r.status, code: body.code || String(r.status), message: body.message || r.statusText };
  }

  async function sendOne(item, token) {
    const auth = { Authorization: 'Bearer ' + token };
    for (const p of item.photos) {
      if (p.id) continue;
      const v = await verdict(await fetch('/api/photos', {
        method: 'POST', headers: { ...auth, 'Content-Type': 'image/jpeg' }, body: p.blob,
      }));
      if (!v.sent) return v;
      p.id = v.body.id;
      await put(item); // the upload is kept: a retry sends the command only
    }
    const field = { ...item.field, photos: item.photos.map((p) => ({ id: p.id, slot: p.slot })) };
    const body = JSON.stringify({ key: item.key, command: item.command, field });
    return verdict(await fetch('/api/commands', {
      method: 'POST', headers: { ...auth, 'Content-Type': 'application/json' }, body,
    }));
  }

  // Send what waits, oldest first; stop at the first that cannot go now, so the order of
  // one person's actions holds (accept before resolve).
  async function flush(token, onSent) {
    if (running || !db || !token) return;
    running = true;
    try {
      for (const item of await all()) {
        if (item.state === 'refused') continue;
        item.state = 'sending'; await put(item);
        let v;
        try { v = await sendOne(item, token); } catch (e) { v = { sent: false, again: true, message: String(e) }; }
        if (v.sent) { await remove(item.n); if (onSent) onSent(item, v.body); continue; }
        if (v.again) {
          item.state = 'waiting'; item.error = v.status === 401 ? '令牌无效，请重新登录 (sign in again)' : '';
          await put(item);
          break;
        }
        item.state = 'refused'; item.error = v.message; item.code = v.code;
        await put(item);
      }
    } finally { running = false; }
  }

  return { open, add, all, remove, flush, newKey, onChange: (f) => listeners.push(f) };
})();

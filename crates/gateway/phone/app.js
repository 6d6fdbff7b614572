// 一屏·网格通: the phone page of a unit or a grid worker. It keeps a mirror of the unit's
// own tickets from the gateway's live feed (WebSocket: snapshot, then deltas; resumes from
// its last seq after a drop), and sends every action through the outbox (outbox.js) over
// HTTP. It never changes a ticket itself: what it shows is what the gateway said.
'use strict';
(() => {
  const $ = (s) => document.querySelector(s);
  const esc = (s) => String(s == null ? '' : s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
  const ZH = {
    status: { received: '待分拨', assigned: '待签收', accepted: '已签收', in_progress: '处置中', returned: '已退回', reviewing: '待审核', resolved: '已办结', rated: '已回访', archived: '已归档' },
    priority: { urgent: '紧急', important: '重要', normal: '一般' },
    category: { dispute: '矛盾纠纷', safety_hazard: '安全隐患', city_management: '城市管理', environment: '生态环境', public_order: '治安', livelihood: '民生服务', petition: '信访', emergency: '应急' },
    action: { intake: '受理', dispatch: '分拨', accept: '签收', start: '到场处置', return: '退单', escalate: '上报', supervise: '督办', resolve: '办结', progress: '进展', request_extension: '申请延期', decide_extension: '延期审批', review: '审核', callback: '回访' },
  };
  const RANK = { urgent: 0, important: 1, normal: 2 };
  const OPEN = ['assigned', 'accepted', 'in_progress'];

  const S = {
    token: localStorage.getItem('yiping.token') || '',
    me: null, unit: null, cfg: null,
    tickets: new Map(), epoch: null, seq: 0,
    ws: null, live: false, retry: 0, timer: null,
    pos: null, view: ['tasks'], list: 'open', fresh: new Set(),
    draft: null,
  };

  // --- sign-in: the QR code's link carries the token after '#t=' (never sent to a server
  // in a URL); typed once, it is kept on this phone until signed out or revoked.
  function tokenFromLink() {
    const m = location.hash.match(/[#&]t=([^&]+)/);
    if (m) {
      S.token = decodeURIComponent(m[1]);
      localStorage.setItem('yiping.token', S.token);
      history.replaceState(null, '', location.pathname);
    }
  }

  async function whoAmI() {
    const r = await fetch('/m/me', { headers: { Authorization: 'Bearer ' + S.token } });
    if (r.status === 401) throw Object.assign(new Error('令牌无效或已吊销 (unknown or revoked token)'), { auth: true });
    if (!r.ok) throw new Error('网关暂不可用 (gateway unavailable): ' + r.status);
    return r.json();
  }

  async function signIn() {
    try {
      S.cfg = S.cfg || await (await fetch('/m/config.json')).json();
      S.me = await whoAmI();
      localStorage.setItem('yiping.me', JSON.stringify(S.me));
    } catch (e) {
      if (e.auth) { signOut(e.message); return; }
      // No signal: the page works from what it knew (the outbox waits).
      S.me = JSON.parse(localStorage.getItem('yiping.me') || 'null');
      if (!S.me) { banner('无法连接网关，请稍后再试 (no connection)', true); return; }
    }
    if (S.me.role !== 'unit') banner('此令牌不属于单位或网格员，只能查看 (not a unit credential)', true);
    $('#tabs').hidden = false;
    connect();
    watchPosition();
    flush();
    render();
  }

  function signOut(why) {
    localStorage.removeItem('yiping.token');
    localStorage.removeItem('yiping.me');
    S.token = ''; S.me = null;
    if (S.ws) S.ws.close();
    $('#tabs').hidden = true;
    S.view = ['login'];
    render(why);
  }

  // --- the live feed
  function connect() {
    clearTimeout(S.timer);
    if (!S.cfg || !S.token) return;
    let ws;
    try { ws = new WebSocket(S.cfg.ws); } catch (e) { return later(); }
    S.ws = ws;
    net('wait');
    ws.onopen = () => {
      const hello = { type: 'hello', protocol: S.cfg.protocol, token: S.token };
      if (S.epoch) hello.resume_from = { epoch: S.epoch, seq: S.seq };
      ws.send(JSON.stringify(hello));
    };
    ws.onmessage = (m) => { if (typeof m.data === 'string') take(JSON.parse(m.data)); };
    ws.onclose = () => { if (S.ws === ws) { S.live = false; net('off'); later(); } };
    ws.onerror = () => ws.close();
  }

  // Back off with jitter: 15,000 phones must not all come back in the same second.
  function later() {
    const base = Math.min(30000, 500 * 2 ** Math.min(S.retry, 6));
    S.retry += 1;
    S.timer = setTimeout(connect, base / 2 + Math.random() * base);
  }

  function take(msg) {
    switch (msg.type) {
      case 'snapshot':
        if (msg.part === 0) S.tickets.clear();
        for (const t of msg.tickets) S.tickets.set(t.id, t);
        if (msg.units && msg.units[0]) S.unit = msg.units[0];
        S.epoch = msg.epoch; S.seq = msg.seq;
        if (msg.last) { S.live = true; S.retry = 0; net('on'); flush(); }
        refresh();
        break;
      case 'delta':
        S.epoch = msg.epoch; S.seq = msg.seq;
        if (!S.live) { S.live = true; S.retry = 0; net('on'); flush(); }
        apply(msg.event);
        break;
      case 'heartbeat':
        if (!S.live) { S.live = true; S.retry = 0; net('on'); flush(); }
        if (msg.epoch !== S.epoch) { S.epoch = null; S.ws.close(); }
        break;
      case 'error':
        if (msg.code === 'unauthorized') signOut('令牌无效或已吊销 (unknown or revoked token)');
        else banner(msg.message, true);
        break;
      default:
    }
  }

  function apply(ev) {
    if (ev.kind === 'unit_status') { if (S.me && ev.unit.id === S.me.unit) S.unit = ev.unit; refresh(); return; }
    const t = ev.ticket;
    if (!t) return;
    const mine = S.me && t.unit === S.me.unit && t.status !== 'archived';
    const had = S.tickets.has(t.id);
    if (mine) S.tickets.set(t.id, t); else S.tickets.delete(t.id);
    if (mine && ev.audit && ev.audit.action === 'dispatch') arrived(t);
    else if (!mine && had) banner(`#${t.id} 已不再由本单位办理 (no longer this unit's)`);
    refresh();
  }

  // A new dispatch: vibrate, a tone, the badge; a notification when the page is hidden.
  function arrived(t) {
    S.fresh.add(t.id);
    setTimeout(() => { S.fresh.delete(t.id); }, 5000);
    if (navigator.vibrate) navigator.vibrate([300, 150, 300]);
    try {
      const a = new (window.AudioContext || window.webkitAudioContext)();
      const o = a.createOscillator(); const g = a.createGain();
      o.frequency.value = 880; o.connect(g); g.connect(a.destination);
      g.gain.setValueAtTime(0.25, a.currentTime); o.start(); o.stop(a.currentTime + 0.35);
    } catch (_) { /* no sound allowed yet */ }
    const open = [...S.tickets.values()].filter((x) => x.status === 'assigned').length;
    if (navigator.setAppBadge) navigator.setAppBadge(open).catch(() => {});
    if (document.hidden && window.Notification && Notification.permission === 'granted' && navigator.serviceWorker) {
      navigator.serviceWorker.ready.then((r) => r.showNotification('新任务 #' + t.id, {
        body: t.title, tag: 'ticket-' + t.id, data: { ticket: t.id },
      })).catch(() => {});
    }
  }

  // --- the phone's position: sent with each action, and the distance to each task.
  function watchPosition() {
    if (!navigator.geolocation) return;
    navigator.geolocation.watchPosition(
      (p) => { S.pos = { lon: p.coords.longitude, lat: p.coords.latitude, accuracy_m: Math.round(p.coords.accuracy || 0) }; },
      () => {}, { enableHighAccuracy: true, maximumAge: 30000, timeout: 20000 });
  }
  function km(t) {
    if (!S.pos || !t.lat) return null;
    const r = Math.PI / 180;
    const a = Math.sin((t.lat - S.pos.lat) * r / 2) ** 2 + Math.cos(S.pos.lat * r) * Math.cos(t.lat * r) * Math.sin((t.lon - S.pos.lon) * r / 2) ** 2;
    return 12742 * Math.asin(Math.sqrt(a));
  }
  function dist(t) {
    const d = km(t);
    if (d == null) return '';
    return d < 1 ? Math.round(d * 1000) + ' 米' : d.toFixed(1) + ' 公里';
  }

  // The deadline of the stage the ticket is at, and what it is for.
  function stage(t) {
    const now = Date.now();
    const [what, at] = t.status === 'assigned' ? ['签收', t.stage_deadline_ms]
      : t.status === 'accepted' ? ['到场', t.stage_deadline_ms]
        : ['办结', t.deadline_ms];
    if (!at || !OPEN.includes(t.status)) return { text: '', late: false };
    const left = at - now;
    const span = (ms) => { const m = Math.round(Math.abs(ms) / 60000); return m < 60 ? m + ' 分钟' : m < 2880 ? (m / 60).toFixed(1) + ' 小时' : Math.round(m / 1440) + ' 天'; };
    return left >= 0 ? { text: `${what}剩 ${span(left)}`, late: false } : { text: `${what}超时 ${span(left)}`, late: true };
  }

  function navLinks(t) {
    const name = encodeURIComponent(t.address || t.title);
    return `<div class="nav">
      <a href="geo:${t.lat},${t.lon}?q=${t.lat},${t.lon}(${name})">导航<br><small>手机地图</small></a>
      <a href="amapuri://route/plan/?dlat=${t.lat}&dlon=${t.lon}&dname=${name}&dev=1&t=0&sourceApplication=yiping">高德<br><small>高德地图</small></a>
      <a href="baidumap://map/direction?destination=latlng:${t.lat},${t.lon}|name:${name}&coord_type=wgs84&mode=driving&src=yiping">百度<br><small>百度地图</small></a>
    </div>`;
  }

  // --- views
  function banner(text, err) {
    const b = $('#banner');
    b.textContent = text; b.className = err ? 'err' : ''; b.hidden = !text;
    if (!err && text) setTimeout(() => { if (b.textContent === text) b.hidden = true; }, 6000);
  }
  function net(s) {
    const n = $('#net');
    n.className = 'net ' + s;
    n.textContent = s === 'on' ? '在线' : s === 'wait' ? '连接中' : '离线';
  }

  function sorted() {
    const all = [...S.tickets.values()];
    const open = S.list === 'open';
    return all.filter((t) => OPEN.includes(t.status) === open)
      .sort((a, b) => (RANK[a.priority] - RANK[b.priority]) || (b.updated_ms - a.updated_ms));
  }

  function card(t) {
    const st = stage(t);
    const pr = t.priority;
    return `<div class="card p-${pr}${S.fresh.has(t.id) ? ' fresh' : ''}" data-open="${t.id}" id="t-${t.id}">
      <h3>#${t.id} ${esc(t.title)}</h3>
      <div class="meta"><span class="chip${pr === 'urgent' ? ' red' : ''}">${ZH.priority[pr]}</span>
        <span class="chip">${ZH.status[t.status] || t.status}</span>
        <span>${ZH.category[t.category] || ''}</span>
        ${st.text ? `<span class="${st.late ? 'late' : ''}">${st.text}</span>` : ''}
        ${dist(t) ? `<span>距 ${dist(t)}</span>` : ''}</div>
      ${t.address ? `<div class="meta">${esc(t.address)}</div>` : ''}
    </div>`;
  }

  function viewTasks() {
    const list = sorted();
    const n = [...S.tickets.values()].filter((t) => OPEN.includes(t.status)).length;
    const badge = $('#badge'); badge.hidden = !n; badge.textContent = n;
    return `<div class="seg"><button data-list="open" class="${S.list === 'open' ? 'on' : ''}">待办 ${n}</button>
      <button data-list="done" class="${S.list === 'done' ? 'on' : ''}">已办</button></div>
      ${list.length ? list.map(card).join('') : `<div class="empty">${S.list === 'open' ? '暂无待办任务<br><small>No open tasks</small>' : '暂无已办任务'}</div>`}`;
  }

  function photos(t) {
    const ps = (t.work && t.work.photos) || [];
    if (!ps.length) return '';
    return `<div class="shots">${ps.map((p) => `<div class="shot"><img alt="${esc(p.slot)}" data-photo="${p.id}" src="data:,"></div>`).join('')}</div>`;
  }

  function viewTicket(id) {
    const t = S.tickets.get(id);
    if (!t) return `<div class="empty">#${id} 已不在本单位的任务中<br><small>no longer this unit's task</small></div>`;
    const st = stage(t);
    const acts = [];
    if (t.status === 'assigned') acts.push(['accept', '签收 Accept', 'big ok wide'], ['return', '退单 Reject', 'big warn wide']);
    if (t.status === 'accepted') acts.push(['start', '到场处置 On scene', 'big ok wide'], ['return', '退单', 'big warn']);
    if (t.status === 'in_progress' || t.status === 'accepted') acts.push(['resolve', '办结 Resolve', 'big wide']);
    if (OPEN.includes(t.status)) acts.push(['progress', '进展 Note', 'big quiet'], ['request_extension', '申请延期', 'big quiet']);
    return `<div class="detail">
      <h2>#${t.id} ${esc(t.title)}</h2>
      <div class="meta"><span class="chip${t.priority === 'urgent' ? ' red' : ''}">${ZH.priority[t.priority]}</span>
        <span class="chip">${ZH.status[t.status] || t.status}</span>
        ${st.text ? `<span class="${st.late ? 'late' : ''}">${st.text}</span>` : ''}</div>
      ${t.content ? `<div class="words">${esc(t.content)}</div>` : ''}
      <div class="rows">
        <div><span>地址</span><span>${esc(t.address || '—')}</span></div>
        <div><span>类别</span><span>${ZH.category[t.category] || ''} ${esc(t.subtype)}</span></div>
        <div><span>网格</span><span>${esc(t.grid)}</span></div>
        <div><span>距离</span><span>${dist(t) || '未定位'}</span></div>
        <div><span>办结期限</span><span>${new Date(t.deadline_ms).toLocaleString('zh-CN', { hour12: false })}</span></div>
      </div>
      ${navLinks(t)}
      ${photos(t)}
      <div class="acts">${acts.map(([k, label, cls]) => `<button class="${cls}" data-act="${k}">${label}</button>`).join('')}</div>
    </div>`;
  }

  const ACT = {
    accept: { title: '签收', words: null },
    start: { title: '到场处置', words: null, slots: ['before'] },
    return: { title: '退单', words: '退单原因（必填）', need: true },
    progress: { title: '进展', words: '现场情况、处置进展', slots: ['before', 'after'] },
    request_extension: { title: '申请延期', words: '延期原因（必填）', need: true, until: true },
    resolve: { title: '办结', words: '处置结果（必填）', need: true, slots: ['before', 'after'] },
  };
  const SLOT = { before: '处置前 Before', after: '处置后 After', report: '现场照片 Photos' };

  function slotsHtml(slots) {
    return `<div class="slots">${slots.map((s) => `<h4>${SLOT[s]}</h4><div class="shots">
      ${S.draft.photos.filter((p) => p.slot === s).map((p) => `<div class="shot"><img src="${p.url}" alt=""><button data-drop="${p.url}">×</button></div>`).join('')}
      ${S.draft.photos.length < (S.cfg ? S.cfg.max_photos : 6) ? `<label class="add"><b>＋</b>拍照/相册<input type="file" accept="image/jpeg,image/png,image/webp" data-slot="${s}"></label>` : ''}
    </div>`).join('')}</div>`;
  }

  function viewAct(id, kind) {
    const a = ACT[kind];
    const t = S.tickets.get(id);
    if (!S.draft || S.draft.ticket !== id || S.draft.kind !== kind) S.draft = { ticket: id, kind, photos: [], words: '' };
    const until = new Date(Math.max(Date.now(), t ? t.deadline_ms : 0) + 86400000);
    const local = new Date(until.getTime() - until.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
    return `<div class="detail"><h2>${a.title} · #${id}</h2>
      ${t ? `<div class="meta">${esc(t.title)}</div>` : ''}
      ${a.words ? `<label class="f" for="words">${a.words}</label><textarea id="words">${esc(S.draft.words)}</textarea>` : ''}
      ${a.until ? `<label class="f" for="until">延期至</label><input type="datetime-local" id="until" value="${local}">` : ''}
      ${a.slots ? slotsHtml(a.slots) : ''}
      <div class="pos">${S.pos ? `已定位 ±${S.pos.accuracy_m} 米` : '未定位（仍可提交）'}</div>
      <button class="big ok" data-submit="${kind}">提交 ${a.title}</button>
      <p class="hint">无信号时先存入“待发送”，恢复后按顺序自动发出，不会重复。</p></div>`;
  }

  // A grid worker's own grid: its unit's area when that is one grid (four parts).
  function ownGrid() {
    const a = S.unit && S.unit.area;
    return a && a.split('-').length === 4 ? a : '';
  }

  function viewReport() {
    if (!S.draft || S.draft.kind !== 'report') S.draft = { kind: 'report', photos: [], words: '', category: 'safety_hazard' };
    const cats = Object.entries(ZH.category).map(([k, v]) => `<option value="${k}"${k === S.draft.category ? ' selected' : ''}>${v}</option>`).join('');
    return `<div class="detail"><h2>网格上报 <small>Report</small></h2>
      <label class="f" for="cat">类别</label><select id="cat">${cats}</select>
      <label class="f" for="words">事项描述（必填）</label><textarea id="words" placeholder="发生了什么、在哪里">${esc(S.draft.words)}</textarea>
      <label class="f" for="addr">地址（选填）</label><input type="text" id="addr" value="${esc(S.draft.addr || '')}">
      <label class="f"><input type="checkbox" id="urgent"${S.draft.urgent ? ' checked' : ''}> 紧急</label>
      ${slotsHtml(['report'])}
      <div class="pos">${S.pos ? `已定位 ±${S.pos.accuracy_m} 米：按位置落到所在网格` : ownGrid() ? `未定位：落在本网格 ${esc(ownGrid())}` : '正在定位…上报需要位置'}</div>
      <button class="big ok" data-submit="report">提交上报</button></div>`;
  }

  async function viewOutbox() {
    const items = await Outbox.all();
    const st = (i) => i.state === 'refused' ? `被拒绝：${esc(i.error)}` : i.state === 'sending' ? '发送中…' : (i.error ? esc(i.error) : '等待网络');
    return `<h2 style="margin:6px 2px">待发送 <small>Outbox</small></h2>
      ${items.length ? `<p class="hint">${S.live ? '正在按顺序发送' : '当前无连接：恢复后按顺序自动发出，不会重复'}</p>` : ''}
      ${items.length ? items.map((i) => `<div class="ob ${i.state}"><b>${esc(i.label)}</b>
        <div class="st">${st(i)} · ${new Date(i.made).toLocaleTimeString('zh-CN', { hour12: false })}${i.photos.length ? ` · ${i.photos.length} 张照片` : ''}</div>
        ${i.state === 'refused' ? `<button class="big quiet" data-dismiss="${i.n}">知道了 Dismiss</button>` : ''}</div>`).join('')
    : '<div class="empty">全部已发送<br><small>Nothing waiting</small></div>'}`;
  }

  function viewLogin(why) {
    return `<div class="login"><h2>登录 Sign in</h2>
      <p class="hint">扫描管理员打印的二维码，或输入一次令牌；令牌保存在本机，可随时吊销。</p>
      ${why ? `<p class="late">${esc(why)}</p>` : ''}
      <label class="f" for="tok">令牌 Token</label><input type="password" id="tok" autocomplete="off">
      <button class="big" id="signin">登录</button></div>`;
  }

  async function render(why) {
    const [v, a, b] = S.view;
    const inner = v === 'ticket' || v === 'act';
    $('#back').hidden = !inner;
    // A task's own screens keep the bottom of the screen for its actions (one thumb).
    $('#tabs').hidden = !S.me || inner;
    document.body.classList.toggle('inner', inner);
    $('#title').textContent = S.unit ? S.unit.name : (S.me ? S.me.name : '一屏·网格通');
    $('#sub').textContent = S.me ? (S.me.unit || S.me.role) : 'Yiping field';
    for (const b2 of document.querySelectorAll('#tabs button')) b2.classList.toggle('on', b2.dataset.tab === (v === 'ticket' || v === 'act' ? 'tasks' : v));
    const keep = document.activeElement && document.activeElement.id === 'words' ? $('#words').value : null;
    if (keep != null && S.draft) S.draft.words = keep;
    const html = v === 'login' ? viewLogin(why) : v === 'ticket' ? viewTicket(a) : v === 'act' ? viewAct(a, b)
      : v === 'report' ? viewReport() : v === 'outbox' ? await viewOutbox() : viewTasks();
    // A delta while the person is typing must not take the text away (the draft holds
    // it) nor the keyboard (focus and caret come back).
    const typing = document.activeElement && document.activeElement.id === 'words';
    $('#view').innerHTML = html;
    if (typing && $('#words')) { const w = $('#words'); w.focus(); w.selectionStart = w.selectionEnd = w.value.length; }
    for (const img of document.querySelectorAll('img[data-photo]')) loadPhoto(img, a);
    const items = await Outbox.all();
    const p = $('#pending'); p.hidden = !items.length; p.textContent = items.length;
  }

  // Photos are fetched with the token (an <img src> cannot send it).
  async function loadPhoto(img, ticket) {
    try {
      const r = await fetch(`/api/photos/${img.dataset.photo}?ticket=${ticket}&thumb=1`, { headers: { Authorization: 'Bearer ' + S.token } });
      if (r.ok) img.src = URL.createObjectURL(await r.blob());
    } catch (_) { /* offline: the slot stays grey */ }
  }

  function go(...v) { S.view = v; window.scrollTo(0, 0); render(); }

  // What the feed, the outbox and the clock change is drawn at once, except over a form
  // being filled in (an action, a report): redrawn under a finger, a tap between press
  // and release is lost. The form's own changes (a photo added) redraw it themselves.
  function refresh() {
    if (S.view[0] === 'act' || S.view[0] === 'report') {
      Outbox.all().then((items) => { const p = $('#pending'); p.hidden = !items.length; p.textContent = items.length; });
      return;
    }
    render();
  }

  async function submit(kind) {
    const words = $('#words') ? $('#words').value.trim() : '';
    const a = ACT[kind];
    if ((a && a.need || kind === 'report') && !words) { banner('请填写说明 (please write what happened)', true); return; }
    const field = { at_ms: Date.now() };
    if (S.pos) field.pos = S.pos;
    const photos = S.draft.photos.map((p) => ({ slot: p.slot, blob: p.blob }));
    let command; let label; const id = S.draft.ticket;
    if (kind === 'report') {
      // Where it stands; without a fix, the worker's own grid (its registered place).
      const own = ownGrid();
      if (!S.pos && !own) { banner('上报需要位置：请允许定位 (location needed)', true); return; }
      const at = S.pos ? { lon: S.pos.lon, lat: S.pos.lat, grid: '' } : { lon: S.unit.lon, lat: S.unit.lat, grid: own };
      command = { op: 'intake', ticket: {
        channel: 'grid_app', category: $('#cat').value, priority: $('#urgent').checked ? 'urgent' : 'normal',
        lon: at.lon, lat: at.lat, grid: at.grid, title: words.slice(0, 40), content: words,
        address: $('#addr').value.trim(), reporter: S.me ? S.me.name : '' } };
      label = '网格上报：' + words.slice(0, 20);
    } else if (kind === 'return') { command = { op: 'return', ticket: id, reason: words }; label = `退单 #${id}`; }
    else if (kind === 'resolve') { command = { op: 'resolve', ticket: id, note: words }; label = `办结 #${id}`; }
    else if (kind === 'progress') { command = { op: 'progress', ticket: id, note: words }; label = `进展 #${id}`; }
    else if (kind === 'request_extension') {
      const until = new Date($('#until').value).getTime();
      command = { op: 'request_extension', ticket: id, until_ms: until, reason: words }; label = `申请延期 #${id}`;
    } else { command = { op: kind, ticket: id }; label = `${ACT[kind].title} #${id}`; }
    await Outbox.add({ label, ticket: id, command, field, photos });
    for (const p of S.draft.photos) URL.revokeObjectURL(p.url);
    S.draft = null;
    banner(S.live ? '已提交，正在发送 (sending)' : '无信号：已存入待发送，恢复后自动发出 (queued offline)');
    go(kind === 'report' ? 'outbox' : 'ticket', id);
    flush();
  }

  function flush() {
    Outbox.flush(S.token, (item, body) => {
      if (item.command.op === 'intake' && body.id) banner(`上报已受理：#${body.id} (report taken in)`);
    }).then(() => refresh());
  }

  async function addPhoto(input) {
    const f = input.files && input.files[0];
    if (!f) return;
    try {
      const blob = await Photo.shrink(f);
      S.draft.photos.push({ slot: input.dataset.slot, blob, url: URL.createObjectURL(blob) });
    } catch (e) { banner(e.message, true); }
    if ($('#words')) S.draft.words = $('#words').value;
    render();
  }

  document.addEventListener('click', (e) => {
    const el = e.target.closest('[data-open],[data-act],[data-submit],[data-tab],[data-list],[data-dismiss],[data-drop],#back,#signin');
    if (!el) return;
    if (el.id === 'back') { S.view[0] === 'act' ? go('ticket', S.view[1]) : go('tasks'); return; }
    if (el.id === 'signin') { const t = $('#tok').value.trim(); if (t) { S.token = t; localStorage.setItem('yiping.token', t); S.view = ['tasks']; signIn(); } return; }
    if (el.dataset.open) go('ticket', Number(el.dataset.open));
    else if (el.dataset.act) { if ($('#words')) S.draft.words = $('#words').value; go('act', S.view[1], el.dataset.act); }
    else if (el.dataset.submit) submit(el.dataset.submit);
    else if (el.dataset.tab) { if (el.dataset.tab === 'tasks' && Notification && Notification.permission === 'default') Notification.requestPermission().catch(() => {}); go(el.dataset.tab); }
    else if (el.dataset.list) { S.list = el.dataset.list; render(); }
    else if (el.dataset.dismiss) Outbox.remove(Number(el.dataset.dismiss)).then(() => render());
    else if (el.dataset.drop) { S.draft.photos = S.draft.photos.filter((p) => p.url !== el.dataset.drop); render(); }
  });
  document.addEventListener('change', (e) => {
    if (e.target.matches('input[type=file]')) addPhoto(e.target);
    if (e.target.id === 'cat' && S.draft) S.draft.category = e.target.value;
  });
  document.addEventListener('input', (e) => {
    if (e.target.id === 'words' && S.draft) S.draft.words = e.target.value;
    if (e.target.id === 'addr' && S.draft) S.draft.addr = e.target.value;
    if (e.target.id === 'urgent' && S.draft) S.draft.urgent = e.target.checked;
  });
  window.addEventListener('online', () => { flush(); if (!S.live) connect(); });
  setInterval(() => { flush(); refresh(); }, 15000);
  Outbox.onChange(() => Outbox.all().then((items) => { const p = $('#pending'); p.hidden = !items.length; p.textContent = items.length; }));
  // For the tests and a support call: what the page holds now.
  window.yiping = { state: S, flush };

  (async () => {
    if ('serviceWorker' in navigator) navigator.serviceWorker.register('/m/sw.js', { scope: '/m/' }).catch(() => {});
    await Outbox.open();
    tokenFromLink();
    if (!S.token) { S.view = ['login']; render(); return; }
    signIn();
  })();
})();

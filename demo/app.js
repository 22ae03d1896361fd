// The Heartline chat demo: a plain ES module on the built client bundle, no framework.
//
// What it shows: the status of the link (connected / reconnecting in N s / offline, the last
// RTT, whether the session resumed), why a link dropped (a banner with the close code in plain
// words), who in the room is away (their link is down), and the life of each message you send:
// pending (not on the server yet), sent ✓ (the server has it) and delivered ✓✓ (the room's
// copy came back, in the server's order). A restarted server leaves a divider in the list.
//
// The chat protocol (JSON over one HeartlineSocket; see src/cli/demo-chat.ts):
//   → { type: 'join', name }            → { type: 'say', id, text }
//   ← { type: 'history', messages }     ← { type: 'said', id, from, text, at, seq, run }
//   ← { type: 'received', id }          ← { type: 'members', names, away }
//   ← { type: 'error', reason }
import { describeClose, HeartlineSocket } from './heartline.min.js';

const NAME_KEY = 'heartline-demo:name';
const CLIENT_KEY = 'heartline-demo:client';
const MAX_MESSAGES = 500;

const params = new URLSearchParams(location.search);
/** `?ws=ws://…` points the page at another endpoint (the tests put a fault proxy there). */
const WS_URL =
  params.get('ws') || `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;

const $ = (id) => document.getElementById(id);
const ui = {
  entry: $('entry'),
  room: $('room'),
  joinForm: $('join-form'),
  nameInput: $('name-input'),
  me: $('me'),
  meName: $('me-name'),
  leave: $('leave'),
  conn: $('conn'),
  connText: $('conn-text'),
  connLive: $('conn-live'),
  rtt: $('rtt'),
  session: $('session'),
  banner: $('banner'),
  bannerTitle: $('banner-title'),
  bannerText: $('banner-text'),
  scroller: $('scroller'),
  empty: $('empty'),
  messages: $('messages'),
  composer: $('composer'),
  textInput: $('text-input'),
  send: $('send'),
  members: $('members'),
  memberCount: $('member-count'),
};

// sessionStorage can throw (storage disabled); the demo then just forgets on reload.
const stored = {
  get: (key) => {
    try {
      return sessionStorage.getItem(key);
    } catch {
      return null;
    }
  },
  set: (key, value) => {
    try {
      sessionStorage.setItem(key, value);
    } catch {}
  },
  remove: (key) => {
    try {
      sessionStorage.removeItem(key);
    } catch {}
  },
};

/** Random hex; crypto.getRandomValues works on plain http too (randomUUID does not). */
function randomHex(bytes) {
  const a = crypto.getRandomValues(new Uint8Array(bytes));
  return Array.from(a, (b) => b.toString(16).padStart(2, '0')).join('');
}

// Every id this tab makes starts with its key, so that its own messages are recognised in the
// history after a reload.
const clientKey = stored.get(CLIENT_KEY) || randomHex(4);
stored.set(CLIENT_KEY, clientKey);
const isOwn = (id) => id.startsWith(`${clientKey}-`);

/** @type {HeartlineSocket | null} */
let ws = null;
let myName = '';
/**
 * What the socket sent and the server has not acknowledged yet, oldest first: a message id, or
 * null for a `join`. An `ack` event says how many of the oldest were acknowledged.
 */
let unacked = [];
/** Rendered messages by id: every message is shown once. */
const shown = new Map();
/** Server processes in the order first seen; a message's place is (run, seq). */
const runs = [];
let retry = null; // { at, attempt } while a reconnection is scheduled
let ticker = 0;
/** The last members message, kept to redraw who is "(you)". */
let lastMembers = { names: [], away: [] };

/**
 * Resolves at once when the browser is online, else on its next `online` event. Used as the
 * URL function, it holds every attempt while offline: no connection that cannot succeed is
 * dialled (each would fail with a console error), and the client's own `online` handling
 * retries at once when the network is back.
 */
function whenOnline() {
  if (navigator.onLine) return Promise.resolve();
  return new Promise((resolve) => addEventListener('online', () => resolve(), { once: true }));
}

async function onlineUrl() {
  await whenOnline();
  return WS_URL;
}

// ── the link ────────────────────────────────────────────────────────────────────────────────

function connect() {
  // A page that is really going away ends its session now, so the others see it leave; a
  // page put in the back/forward cache keeps it (persisted), and the client resumes it.
  // Registered before the socket's own listener, so it runs first.
  addEventListener('pagehide', onPageHide);
  ws = new HeartlineSocket(onlineUrl, [], {
    heartbeat: { interval: 5_000, timeout: 3_000 },
    reconnect: { minDelay: 500, maxDelay: 10_000 },
  });
  ws.addEventListener('statechange', renderConn);
  ws.addEventListener('open', () => {
    retry = null;
    hideBanner();
    renderConn();
  });
  ws.addEventListener('message', (event) => onServerMessage(event.data));
  ws.addEventListener('heartbeat', (event) => renderRtt(event.rtt));
  ws.addEventListener('reconnecting', (event) => {
    retry = { at: performance.now() + event.delay, attempt: event.attempt };
    renderConn();
  });
  ws.addEventListener('drop', (event) => {
    showBanner(event);
    renderRtt(undefined); // the last RTT belongs to the link that is gone
  });
  ws.addEventListener('resume', (event) => {
    renderSession(event.resumed, event.reason);
    // A fresh session does not know who we are: the server forgot (restarted) or gave up.
    if (!event.resumed) sendJoin();
  });
  ws.addEventListener('ack', (event) => {
    for (const id of unacked.splice(0, event.count)) if (id) setState(id, 'sent');
  });
  ws.addEventListener('overflow', (event) => {
    // The outbox was full and dropped the oldest unacknowledged messages: say so.
    for (const id of unacked.splice(0, event.dropped.length)) if (id) setState(id, 'failed');
  });
  ws.addEventListener('close', (event) => {
    retry = null;
    renderConn();
    if (event.code !== 1000) showBanner({ ...describeClose(event.code), willReconnect: false });
  });
  ws.addEventListener('error', (event) => console.warn('heartline:', event.message));
  renderSession(undefined);
  renderConn();
  sendJoin();
  ticker = setInterval(renderConn, 250);
}

function disconnect() {
  removeEventListener('pagehide', onPageHide);
  clearInterval(ticker);
  ws?.close(1000, 'left the room');
  ws = null;
  unacked = [];
  retry = null;
}

function onPageHide(event) {
  if (!event.persisted) ws?.close(1000, 'page closed');
}

function sendJoin() {
  ws.send(JSON.stringify({ type: 'join', name: myName }));
  unacked.push(null);
}

function onServerMessage(data) {
  let message;
  try {
    message = JSON.parse(data);
  } catch {
    return console.warn('ignored a message that is not JSON:', data);
  }
  switch (message?.type) {
    case 'said':
      return addDelivered(message);
    case 'history':
      for (const m of Array.isArray(message.messages) ? message.messages : []) addDelivered(m);
      return;
    case 'received':
      return setState(String(message.id), 'sent');
    case 'members':
      lastMembers = {
        names: Array.isArray(message.names) ? message.names.map(String) : [],
        away: Array.isArray(message.away) ? message.away.map(String) : [],
      };
      return renderMembers();
    case 'error':
      return console.warn('the server ignored a message:', message.reason);
  }
}

// ── messages ────────────────────────────────────────────────────────────────────────────────

const timeFormat = new Intl.DateTimeFormat([], { hour: '2-digit', minute: '2-digit' });

/** 0 – 11, the same for a name everywhere (FNV-1a). */
function hue(name) {
  let h = 0x811c9dc5;
  for (const c of name) h = Math.imul(h ^ c.codePointAt(0), 0x01000193);
  return (h >>> 0) % 12;
}

function avatar(name) {
  const span = document.createElement('span');
  span.className = 'avatar';
  span.textContent = [...name.trim()][0]?.toUpperCase() ?? '?';
  span.dataset.hue = String(hue(name));
  span.setAttribute('aria-hidden', 'true');
  return span;
}

function messageElement(id, from, text, at) {
  const li = document.createElement('li');
  li.className = 'msg';
  li.dataset.id = id;
  li.dataset.from = from;
  if (isOwn(id)) li.classList.add('own');
  else li.append(avatar(from));
  const bubble = document.createElement('div');
  bubble.className = 'bubble';
  const author = document.createElement('span');
  author.className = 'author';
  author.textContent = isOwn(id) ? 'You' : from;
  const body = document.createElement('p');
  body.className = 'text';
  body.textContent = text;
  const meta = document.createElement('span');
  meta.className = 'meta';
  const time = document.createElement('time');
  time.dateTime = new Date(at).toISOString();
  time.textContent = timeFormat.format(at);
  const state = document.createElement('span');
  state.className = 'state';
  meta.append(time, state);
  bubble.append(author, body, meta);
  li.append(bubble);
  return li;
}

const STATE_TEXT = {
  pending: 'pending',
  sent: 'sent',
  delivered: 'delivered',
  failed: 'not sent (outbox full)',
};
/** States only move forward: a late "sent" never undoes "delivered". */
const STATE_RANK = { pending: 0, failed: 1, sent: 2, delivered: 3 };

function setState(id, state) {
  const entry = shown.get(id);
  if (!entry || STATE_RANK[entry.state] >= STATE_RANK[state]) return;
  entry.state = state;
  entry.li.dataset.state = state;
  const label = entry.li.querySelector('.state');
  if (label) label.textContent = isOwn(id) ? STATE_TEXT[state] : '';
}

function runIndex(run) {
  let i = runs.indexOf(run);
  if (i < 0) {
    i = runs.push(run) - 1;
    if (i > 0) addDivider(i);
  }
  return i;
}

/**
 * Marks where a restarted server's messages begin: what is above came from a server process
 * that is gone (it kept them in memory only), so a reload would no longer show them.
 */
function addDivider(run) {
  const li = document.createElement('li');
  li.className = 'divider';
  li.dataset.run = String(run);
  li.setAttribute('role', 'separator');
  li.textContent = 'The server restarted · messages above are from before';
  // After the last delivered message: every message of the new run goes below it.
  let last = null;
  for (let el = ui.messages.lastElementChild; el; el = el.previousElementSibling) {
    if (el.classList.contains('divider') || shown.get(el.dataset.id)?.state === 'delivered') {
      last = el;
      break;
    }
  }
  if (!last) return; // nothing from before to set apart
  last.after(li);
}

const before = (a, b) => a.run < b.run || (a.run === b.run && a.seq < b.seq);

/** A message as the server ordered it: in its place among the delivered, above the pending. */
function addDelivered(m) {
  if (!m || typeof m.id !== 'string' || typeof m.text !== 'string') return;
  const key = { run: runIndex(String(m.run)), seq: Number(m.seq) };
  let entry = shown.get(m.id);
  if (entry?.state === 'delivered') return; // a repeat (history after a fresh session)
  const stick = nearBottom() || isOwn(m.id);
  if (entry) {
    entry.li.remove();
    entry.li.querySelector('time').textContent = timeFormat.format(m.at);
  } else {
    entry = { li: messageElement(m.id, String(m.from), m.text, m.at) };
    shown.set(m.id, entry);
  }
  entry.key = key;
  setState(m.id, 'delivered');
  // Walk up from the bottom past pending messages and later ones; new messages land last.
  let after = null;
  for (let el = ui.messages.lastElementChild; el; el = el.previousElementSibling) {
    // A divider sorts before the first message of its run.
    const other = el.classList.contains('divider')
      ? { state: 'delivered', key: { run: Number(el.dataset.run), seq: 0 } }
      : shown.get(el.dataset.id);
    if (other?.state === 'delivered' && before(other.key, key)) {
      after = el;
      break;
    }
  }
  if (after) after.after(entry.li);
  else ui.messages.prepend(entry.li);
  group(entry.li);
  group(entry.li.nextElementSibling);
  trim();
  renderEmpty();
  if (stick) scrollToBottom();
}

function addPending(id, text) {
  const entry = { li: messageElement(id, myName, text, Date.now()) };
  shown.set(id, entry);
  setState(id, 'pending');
  ui.messages.append(entry.li);
  group(entry.li);
  renderEmpty();
  scrollToBottom();
}

/** Consecutive messages of one author hide the repeated name and avatar. */
function group(li) {
  if (!li) return;
  const prev = li.previousElementSibling;
  li.classList.toggle('cont', prev?.dataset.from === li.dataset.from);
}

function trim() {
  while (ui.messages.childElementCount > MAX_MESSAGES) {
    const first = ui.messages.firstElementChild;
    if (first.classList.contains('divider')) {
      first.remove();
      continue;
    }
    if (shown.get(first.dataset.id)?.state !== 'delivered') break;
    shown.delete(first.dataset.id);
    first.remove();
  }
}

function nearBottom() {
  const s = ui.scroller;
  return s.scrollHeight - s.scrollTop - s.clientHeight < 80;
}

function scrollToBottom() {
  ui.scroller.scrollTop = ui.scroller.scrollHeight;
  atBottom = true;
}

// A list read at its bottom stays there when the list box shrinks (the banner appears, the
// window or the on-screen keyboard resizes it).
let atBottom = true;
ui.scroller.addEventListener('scroll', () => {
  atBottom = nearBottom();
});
new ResizeObserver(() => {
  if (atBottom) scrollToBottom();
}).observe(ui.scroller);

function renderEmpty() {
  ui.empty.hidden = ui.messages.childElementCount > 0;
}

function say(text) {
  const id = `${clientKey}-${randomHex(6)}`;
  addPending(id, text);
  ws.send(JSON.stringify({ type: 'say', id, text }));
  unacked.push(id);
}

// ── status, banner, members ─────────────────────────────────────────────────────────────────

function renderConn() {
  let kind;
  let text;
  const state = ws?.state;
  if (state === 'open' && !navigator.onLine) {
    // The browser says offline but the link has not failed yet: the heartbeat is checking.
    kind = 'checking';
    text = 'offline? checking the link…';
  } else if (state === 'open') {
    kind = 'connected';
    text = 'connected';
  } else if (state === 'closed' || state === 'closing') {
    kind = 'closed';
    text = 'disconnected';
  } else if (!navigator.onLine) {
    kind = 'offline';
    text = 'offline · waiting for the network';
  } else if (retry) {
    const seconds = Math.ceil((retry.at - performance.now()) / 1000);
    kind = 'reconnecting';
    text =
      seconds > 0
        ? `reconnecting in ${seconds} s (attempt ${retry.attempt})`
        : `reconnecting… (attempt ${retry.attempt})`;
  } else {
    kind = 'connecting';
    text = 'connecting…';
  }
  if (ui.conn.dataset.conn !== kind) {
    ui.conn.dataset.conn = kind;
    ui.connLive.textContent = kind === 'offline' ? 'offline' : kind;
    ui.textInput.disabled = kind === 'closed';
    renderSend();
  }
  if (ui.connText.textContent !== text) ui.connText.textContent = text;
}

/** `undefined`: no live link, so no current RTT. */
function renderRtt(rtt) {
  ui.rtt.textContent =
    rtt === undefined ? 'RTT —' : `RTT ${rtt < 10 ? rtt.toFixed(1) : Math.round(rtt)} ms`;
}

// Why a session could not be resumed (PROTOCOL.md, `hello.reason`), in words.
const FRESH_REASONS = {
  unknown: 'the server no longer knew the old one',
  expired: 'the old one expired while away',
  token: 'the server refused the resume token',
  epoch: 'the server restarted',
  gap: 'too much was missed to replay',
};

/** `resumed`: undefined for the first session, else whether the previous one continued. */
function renderSession(resumed, reason) {
  let text;
  if (resumed === undefined) text = 'new session';
  else if (resumed) text = 'session resumed: nothing lost';
  else text = `new session: ${FRESH_REASONS[reason] ?? reason ?? 'the old one ended'}`;
  ui.session.textContent = text;
  ui.session.dataset.session = resumed ? 'resumed' : 'new';
}

function showBanner(event) {
  ui.bannerTitle.textContent = `Connection lost: ${event.code} ${event.name}`;
  ui.bannerText.textContent = `${event.explanation} ${
    event.willReconnect
      ? 'Reconnecting by itself: what you send meanwhile waits below and goes out when the link is back.'
      : 'Heartline will not retry this one; reload the page to join again.'
  }`;
  ui.banner.hidden = false;
}

function hideBanner() {
  ui.banner.hidden = true;
}

function renderMembers() {
  const { names, away } = lastMembers;
  ui.members.replaceChildren(
    ...names.map((name) => {
      const li = document.createElement('li');
      const isAway = away.includes(name);
      li.classList.toggle('away', isAway);
      li.title = isAway ? `${name} is away: their link is down, their session waits` : name;
      li.append(avatar(name));
      const label = document.createElement('span');
      label.className = 'member-name';
      label.textContent = name === myName ? `${name} (you)` : name;
      li.append(label);
      if (isAway) {
        const tag = document.createElement('span');
        tag.className = 'away-tag';
        tag.textContent = 'away';
        li.append(tag);
      }
      return li;
    }),
  );
  ui.memberCount.textContent = String(names.length);
  renderMemberScroll();
}

/** On a phone the members are one scrolling row: fade the edge that has more behind it. */
function renderMemberScroll() {
  const list = ui.members;
  const more = list.scrollWidth - list.clientWidth - list.scrollLeft > 1;
  list.dataset.more = more ? 'end' : '';
  if (list.scrollLeft > 1) list.dataset.more += ' start';
}
ui.members.addEventListener('scroll', renderMemberScroll, { passive: true });
new ResizeObserver(renderMemberScroll).observe(ui.members);

// ── screens ─────────────────────────────────────────────────────────────────────────────────

function enterRoom(name) {
  myName = name;
  stored.set(NAME_KEY, name);
  ui.meName.textContent = name;
  ui.me.hidden = false;
  ui.entry.hidden = true;
  ui.room.hidden = false;
  document.title = `Heartline chat · ${name}`;
  connect();
  ui.textInput.focus();
}

function leaveRoom() {
  disconnect();
  stored.remove(NAME_KEY);
  shown.clear();
  runs.length = 0;
  ui.messages.replaceChildren();
  ui.members.replaceChildren();
  lastMembers = { names: [], away: [] };
  ui.memberCount.textContent = '0';
  renderRtt(undefined);
  hideBanner();
  renderEmpty();
  ui.me.hidden = true;
  ui.room.hidden = true;
  ui.entry.hidden = false;
  document.title = 'Heartline chat';
  ui.nameInput.value = myName;
  ui.nameInput.focus();
}

ui.joinForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const name = ui.nameInput.value.trim().replace(/\s+/g, ' ');
  if (name) enterRoom(name);
});

ui.composer.addEventListener('submit', (event) => {
  event.preventDefault();
  const text = ui.textInput.value;
  // A socket closed for good refuses sends (the banner says why); everything else is queued.
  if (!text.trim() || !ws || ws.state === 'closed' || ws.state === 'closing') return;
  say(text);
  ui.textInput.value = '';
  renderSend();
});

function renderSend() {
  ui.send.disabled = ui.textInput.disabled || ui.textInput.value.trim() === '';
}
ui.textInput.addEventListener('input', renderSend);
ui.leave.addEventListener('click', leaveRoom);
addEventListener('online', renderConn);
addEventListener('offline', () => {
  renderRtt(undefined);
  renderConn();
});

renderSend();
const remembered = stored.get(NAME_KEY);
if (remembered) enterRoom(remembered);
else ui.nameInput.focus();

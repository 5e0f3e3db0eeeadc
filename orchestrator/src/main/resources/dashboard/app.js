// The Slotted dashboard: a hash router over a few pages, the API client (bearer token), and the
// live feed (Server-Sent Events from /api/v1/events, read with fetch so the token goes along).
import { h, clear, message } from './util.js';
import * as overview from './overview.js';
import * as jobs from './jobs.js';
import * as job from './job.js';
import * as dead from './dead.js';
import * as schedules from './schedules.js';
import * as runners from './runners.js';

const TOKEN_KEY = 'slotted.token';
const main = document.getElementById('main');
const nav = document.getElementById('nav');
const live = document.getElementById('live');
const signout = document.getElementById('signout');

let token = sessionStorage.getItem(TOKEN_KEY) || '';
let current = null;       // the mounted page: {update(snapshot), unmount()}
let snapshot = null;      // the latest snapshot of the feed
let feed = null;          // AbortController of the feed connection
let started = false;

export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || 'HTTP ' + status);
    this.status = status;
    this.problem = problem;
  }
}

/** Calls the API with the token; a 401 drops the token and shows the sign-in form. */
export async function api(path, options = {}) {
  const headers = Object.assign({ Accept: 'application/json' }, options.headers || {});
  if (token) headers.Authorization = 'Bearer ' + token;
  const res = await fetch(path, Object.assign({}, options, { headers }));
  if (res.status === 401) {
    signIn('The token was refused. Enter the API token.');
    throw new ApiError(401, null);
  }
  const type = res.headers.get('Content-Type') || '';
  const body = type.includes('json') ? await res.json() : await res.text();
  if (!res.ok) throw new ApiError(res.status, typeof body === 'object' ? body : { detail: body });
  return body;
}

export function post(path) {
  return api(path, { method: 'POST' });
}

export function latest() {
  return snapshot;
}

// ---- sign-in ------------------------------------------------------------------------------------

function signIn(why) {
  stopFeed();
  if (current) current.unmount();
  current = null;
  started = false;
  token = '';
  sessionStorage.removeItem(TOKEN_KEY);
  nav.hidden = true;
  signout.hidden = true;
  live.textContent = '';
  clear(main);
  const input = h('input', { id: 'token', type: 'password', autocomplete: 'current-password', required: true, 'aria-label': 'API token' });
  const form = h('form', { id: 'login-form', onsubmit: async (e) => {
    e.preventDefault();
    token = input.value.trim();
    try {
      await probe();
      sessionStorage.setItem(TOKEN_KEY, token);
      start();
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 401)) showError(err);
    }
  } },
  h('label', null, 'API token (slotted.http.auth-token)', input),
  h('button.primary', { type: 'submit' }, 'Sign in'));
  main.append(h('div.login.panel', null, h('h1', null, 'Slotted'), why ? message(why) : null, form));
  input.focus();
}

async function probe() {
  const headers = token ? { Authorization: 'Bearer ' + token } : {};
  // A cheap authorised call (the runner rows), to learn whether the token is needed or right.
  const res = await fetch('/api/v1/runners', { headers });
  if (res.status === 401) {
    if (token) signIn('The token was refused. Enter the API token.');
    else signIn('This server needs an API token.');
    throw new ApiError(401, null);
  }
  if (!res.ok) throw new ApiError(res.status, null);
}

signout.addEventListener('click', () => signIn('Signed out.'));

// ---- live feed ----------------------------------------------------------------------------------

function startFeed() {
  stopFeed();
  const ctl = new AbortController();
  feed = ctl;
  let retry = 500;
  const connect = async () => {
    while (!ctl.signal.aborted) {
      try {
        const headers = { Accept: 'text/event-stream' };
        if (token) headers.Authorization = 'Bearer ' + token;
        const res = await fetch('/api/v1/events', { headers, signal: ctl.signal, cache: 'no-store' });
        if (res.status === 401) { signIn('The token was refused. Enter the API token.'); return; }
        if (!res.ok || !res.body) throw new Error('HTTP ' + res.status);
        setLive('live', 'on');
        retry = 500;
        await readEvents(res.body, onEvent);
      } catch (e) {
        if (ctl.signal.aborted) return;
      }
      setLive('reconnecting…', 'off');
      await new Promise((r) => setTimeout(r, retry));
      retry = Math.min(retry * 2, 5000);
    }
  };
  connect();
}

function stopFeed() {
  if (feed) feed.abort();
  feed = null;
}

function setLive(text, cls) {
  live.textContent = text;
  live.className = 'live ' + cls;
}

/** Parses a text/event-stream body (https://html.spec.whatwg.org/#event-stream-interpretation). */
async function readEvents(body, handler) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += value.replace(/\r\n?/g, '\n');
    let i;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      let type = 'message';
      const data = [];
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) continue;
        const c = line.indexOf(':');
        const field = c < 0 ? line : line.slice(0, c);
        const v = c < 0 ? '' : line.slice(c + 1).replace(/^ /, '');
        if (field === 'event') type = v;
        else if (field === 'data') data.push(v);
      }
      if (data.length) handler(type, data.join('\n'));
    }
  }
}

function onEvent(type, data) {
  if (type !== 'snapshot') return;
  const snap = JSON.parse(data);
  if (snapshot && snap.seq <= snapshot.seq && snap.now < snapshot.now) return;
  snap.receivedAt = Date.now();
  snapshot = snap;
  if (current && current.update) {
    try {
      current.update(snap);
    } catch (e) {
      console.error(e);
    }
  }
}

// ---- router -------------------------------------------------------------------------------------

const ROUTES = [
  [/^\/?$/, 'overview', overview],
  [/^\/jobs\/([^/?]+)$/, 'jobs', job],
  [/^\/jobs$/, 'jobs', jobs],
  [/^\/dead$/, 'dead', dead],
  [/^\/schedules$/, 'schedules', schedules],
  [/^\/runners$/, 'runners', runners],
];

function route() {
  if (!started) return;
  const hash = location.hash.replace(/^#/, '') || '/';
  const [path, query] = hash.split('?');
  const params = new URLSearchParams(query || '');
  if (current) current.unmount();
  current = null;
  clear(main);
  const match = ROUTES.map(([re, name, page]) => [re.exec(path), name, page]).find(([m]) => m);
  if (!match) {
    main.append(message('No such page: ' + path, 'error'));
    return;
  }
  const [m, name, page] = match;
  for (const a of nav.querySelectorAll('a')) {
    if (a.dataset.page === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  document.title = 'Slotted · ' + name;
  const ctx = { api, post, latest, params, arg: m[1] ? decodeURIComponent(m[1]) : null, go, showError };
  current = page.mount(main, ctx) || null;
  if (current && current.update && snapshot) current.update(snapshot);
}

export function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

export function showError(err) {
  const el = message(err && err.message ? err.message : String(err), 'error');
  main.prepend(el);
  setTimeout(() => el.remove(), 8000);
}

function start() {
  started = true;
  nav.hidden = false;
  signout.hidden = !token;
  startFeed();
  route();
}

window.addEventListener('hashchange', route);

// Over HTTP/1.1 a browser keeps about six connections per server, and each open feed holds one:
// a page that is left, or hidden for a while, gives its connection back.
let hiddenTimer = 0;
window.addEventListener('pagehide', stopFeed);
window.addEventListener('pageshow', (e) => { if (e.persisted && started) startFeed(); });
document.addEventListener('visibilitychange', () => {
  clearTimeout(hiddenTimer);
  if (document.hidden) {
    hiddenTimer = setTimeout(() => { stopFeed(); setLive('paused while hidden', ''); }, 30000);
  } else if (started && !feed) {
    startFeed();
  }
});

// Keyboard: g then o/j/d/s/r goes to a page; / focuses the page's search box.
let pendingG = 0;
document.addEventListener('keydown', (e) => {
  const t = e.target;
  if (e.ctrlKey || e.metaKey || e.altKey || (t && (t.tagName === 'INPUT' || t.tagName === 'SELECT' || t.tagName === 'TEXTAREA'))) return;
  if (e.key === '/') {
    const f = main.querySelector('[data-search]');
    if (f) { e.preventDefault(); f.focus(); }
    return;
  }
  if (e.key === 'g') { pendingG = Date.now(); return; }
  if (Date.now() - pendingG < 1500) {
    const to = { o: '#/', j: '#/jobs', d: '#/dead', s: '#/schedules', r: '#/runners' }[e.key];
    pendingG = 0;
    if (to) { e.preventDefault(); go(to); main.focus(); }
  }
});

probe().then(start, (e) => {
  if (!(e instanceof ApiError && e.status === 401)) {
    started = true;
    nav.hidden = false;
    startFeed();
    route();
    showError(e);
  }
});

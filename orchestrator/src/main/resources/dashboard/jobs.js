// Jobs: filter by queue and state, find by id or idempotency key, cursor paging, newest first.
// The page refetches when the live feed says jobs changed (jobsVersion).
import { h, clear, badge, fmtTime, message } from './util.js';

const STATES = ['scheduled', 'ready', 'running', 'succeeded', 'dead', 'cancelled'];
const LIMIT = 50;

export function mount(main, ctx) {
  const params = ctx.params;
  let queue = params.get('queue') || '';
  let state = params.get('state') || '';
  const cursors = [null];   // cursor of each page visited; the last is the one shown
  let version = null;
  let loading = false;
  let again = false;
  let gone = false;

  const queueSel = h('select', { id: 'f-queue', name: 'queue' }, h('option', { value: '' }, 'all queues'));
  const stateSel = h('select', { id: 'f-state', name: 'state' }, h('option', { value: '' }, 'any state'),
    STATES.map((st) => h('option', { value: st }, st)));
  stateSel.value = state;
  const find = h('input', { id: 'f-find', type: 'search', placeholder: 'job id or idempotency key', 'data-search': true, size: 28, 'aria-label': 'Find a job by id or idempotency key' });
  const note = h('div', { id: 'jobs-note' });
  const tbody = h('tbody', { id: 'job-rows' });
  const newer = h('button', { type: 'button', id: 'page-newer', onclick: () => { cursors.pop(); load(); } }, '← Newer');
  const older = h('button', { type: 'button', id: 'page-older' }, 'Older →');
  const pageInfo = h('span.muted');

  const filters = h('form.filters', { onsubmit: (e) => { e.preventDefault(); doFind(); } },
    h('label', null, 'Queue', queueSel), h('label', null, 'State', stateSel),
    h('label', null, h('span', null, 'Find ', h('span.kbd', null, '/')), find),
    h('button', { type: 'submit' }, 'Find'));
  queueSel.addEventListener('change', () => { queue = queueSel.value; reset(); });
  stateSel.addEventListener('change', () => { state = stateSel.value; reset(); });

  main.append(h('h1', null, 'Jobs'), filters, note,
    h('div.panel', null, h('table', { id: 'jobs' },
      h('thead', null, h('tr', null, h('th', null, 'Id'), h('th', null, 'Queue'), h('th', null, 'State'),
        h('th.num', null, 'Priority'), h('th.num', null, 'Attempts'), h('th', null, 'Idempotency key'),
        h('th', null, 'Created'), h('th', null, 'Finished'))),
      tbody),
    h('div.pager', null, newer, older, pageInfo)));

  function reset() {
    cursors.length = 1;
    const q = new URLSearchParams();
    if (queue) q.set('queue', queue);
    if (state) q.set('state', state);
    history.replaceState(null, '', '#/jobs' + (q.toString() ? '?' + q : ''));
    load();
  }

  async function load() {
    if (loading) { again = true; return; }
    loading = true;
    const q = new URLSearchParams({ limit: String(LIMIT) });
    if (queue) q.set('queue', queue);
    if (state) q.set('state', state);
    const cursor = cursors[cursors.length - 1];
    if (cursor) q.set('cursor', cursor);
    const t0 = performance.now();
    try {
      const page = await ctx.api('/api/v1/jobs?' + q);
      if (gone) return;
      render(page);
      // For the first-paint benchmark (BENCHMARKS.md): the frame after the rows are in the DOM.
      requestAnimationFrame(() => performance.mark('slotted:jobs-painted'));
      main.dataset.loadMs = String(Math.round(performance.now() - t0));
    } catch (e) {
      if (!gone) ctx.showError(e);
    } finally {
      loading = false;
      if (again && !gone) { again = false; load(); }
    }
  }

  function render(page) {
    clear(tbody);
    if (!page.items.length) {
      tbody.append(h('tr', null, h('td.muted', { colspan: 8 }, 'No jobs match.')));
    }
    for (const j of page.items) {
      tbody.append(h('tr', { 'data-job': j.id },
        h('td.mono', null, h('a', { href: '#/jobs/' + encodeURIComponent(j.id) }, j.id)),
        h('td', null, j.queue), h('td', null, badge(j.state)),
        h('td.num', null, j.priority), h('td.num', null, `${j.attemptCount}/${j.maxAttempts}`),
        h('td.mono', null, j.idempotencyKey || ''), h('td.nowrap', null, fmtTime(j.createdAt)),
        h('td.nowrap', null, fmtTime(j.finishedAt))));
    }
    newer.disabled = cursors.length <= 1;
    older.disabled = !page.nextCursor;
    older.onclick = () => { cursors.push(page.nextCursor); load(); };
    pageInfo.textContent = `page ${cursors.length} · ${page.items.length} jobs`;
  }

  async function doFind() {
    const v = find.value.trim();
    clear(note);
    if (!v) return;
    if (/^\d+$/.test(v)) {
      try {
        const j = await ctx.api('/api/v1/jobs/' + encodeURIComponent(v));
        ctx.go('#/jobs/' + encodeURIComponent(j.id));
        return;
      } catch (e) {
        if (e.status !== 404) { ctx.showError(e); return; }
      }
    }
    const q = new URLSearchParams({ idempotencyKey: v, limit: '50' });
    if (queue) q.set('queue', queue);
    try {
      const page = await ctx.api('/api/v1/jobs?' + q);
      if (page.items.length === 1) { ctx.go('#/jobs/' + encodeURIComponent(page.items[0].id)); return; }
      if (!page.items.length) { note.append(message(`No job with id or idempotency key '${v}'.`)); return; }
      note.append(message(`${page.items.length} jobs have the key '${v}' (one per queue):`));
      render(page);
    } catch (e) {
      ctx.showError(e);
    }
  }

  function fillQueues(snap) {
    const names = (snap.queues || []).map((q) => q.queue);
    const have = [...queueSel.options].map((o) => o.value).slice(1);
    if (names.join() === have.join()) return;
    for (const o of [...queueSel.options].slice(1)) o.remove();
    for (const n of names) queueSel.append(h('option', { value: n }, n));
    if (queue && !names.includes(queue)) queueSel.append(h('option', { value: queue }, queue));
    queueSel.value = queue;
  }

  if (queue) queueSel.append(h('option', { value: queue }, queue));
  queueSel.value = queue;
  load();
  return {
    update(snap) {
      fillQueues(snap);
      if (version !== null && snap.jobsVersion !== version && !note.firstChild) load();
      version = snap.jobsVersion;
    },
    unmount() { gone = true; },
  };
}


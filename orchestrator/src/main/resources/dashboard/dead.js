// Dead letters: per queue, newest first; requeue one or a selection.
import { h, clear, fmtTime, message } from './util.js';

export function mount(main, ctx) {
  let queue = ctx.params.get('queue') || '';
  const cursors = [null];
  let version = null;
  let gone = false;
  const selected = new Set();

  const queueSel = h('select', { id: 'd-queue' }, h('option', { value: '' }, 'all queues'));
  if (queue) queueSel.append(h('option', { value: queue }, queue));
  queueSel.value = queue;
  queueSel.addEventListener('change', () => {
    queue = queueSel.value;
    cursors.length = 1;
    history.replaceState(null, '', '#/dead' + (queue ? '?queue=' + encodeURIComponent(queue) : ''));
    load();
  });
  const all = h('input', { type: 'checkbox', id: 'd-all', 'aria-label': 'Select all on this page' });
  const requeueSel = h('button.primary', { type: 'button', id: 'requeue-selected', disabled: true, onclick: () => requeue([...selected]) }, 'Requeue selected');
  const tbody = h('tbody', { id: 'dead-rows' });
  const note = h('div');
  const newer = h('button', { type: 'button', onclick: () => { cursors.pop(); load(); } }, '← Newer');
  const older = h('button', { type: 'button' }, 'Older →');

  main.append(h('h1', null, 'Dead letters'),
    h('div.row', null, h('label', null, 'Queue', queueSel), requeueSel), note,
    h('div.panel', null, h('table', { id: 'dead' },
      h('thead', null, h('tr', null, h('th', null, all), h('th', null, 'Id'), h('th', null, 'Queue'),
        h('th.num', null, 'Attempts'), h('th', null, 'Died'), h('th', null, 'Last error'), h('th', null, ''))),
      tbody),
    h('div.pager', null, newer, older)));

  all.addEventListener('change', () => {
    for (const cb of tbody.querySelectorAll('input[type=checkbox]')) {
      cb.checked = all.checked;
      if (all.checked) selected.add(cb.value); else selected.delete(cb.value);
    }
    sync();
  });

  function sync() {
    requeueSel.disabled = selected.size === 0;
    requeueSel.textContent = selected.size ? `Requeue selected (${selected.size})` : 'Requeue selected';
  }

  async function load() {
    const q = new URLSearchParams({ limit: '50' });
    if (queue) q.set('queue', queue);
    const cursor = cursors[cursors.length - 1];
    if (cursor) q.set('cursor', cursor);
    try {
      const page = await ctx.api('/api/v1/dead?' + q);
      if (gone) return;
      clear(tbody);
      const ids = new Set(page.items.map((j) => j.id));
      for (const id of [...selected]) if (!ids.has(id)) selected.delete(id);
      if (!page.items.length) tbody.append(h('tr', null, h('td.muted', { colspan: 7 }, 'No dead jobs.')));
      for (const j of page.items) {
        const last = (j.attempts || [])[j.attempts.length - 1];
        const cb = h('input', { type: 'checkbox', value: j.id, checked: selected.has(j.id), 'aria-label': 'Select job ' + j.id });
        cb.addEventListener('change', () => { if (cb.checked) selected.add(j.id); else selected.delete(j.id); sync(); });
        tbody.append(h('tr', { 'data-job': j.id },
          h('td', null, cb),
          h('td.mono', null, h('a', { href: '#/jobs/' + encodeURIComponent(j.id) }, j.id)),
          h('td', null, j.queue), h('td.num', null, `${j.attemptCount}/${j.maxAttempts}`),
          h('td.nowrap', null, fmtTime(j.finishedAt)), h('td', null, last ? last.error || last.outcome : ''),
          h('td', null, h('button', { type: 'button', 'data-requeue': j.id, onclick: () => requeue([j.id]) }, 'Requeue'))));
      }
      all.checked = false;
      newer.disabled = cursors.length <= 1;
      older.disabled = !page.nextCursor;
      older.onclick = () => { cursors.push(page.nextCursor); load(); };
      sync();
    } catch (e) {
      if (!gone) ctx.showError(e);
    }
  }

  async function requeue(ids) {
    clear(note);
    let ok = 0;
    const failed = [];
    for (const id of ids) {
      try {
        await ctx.post(`/api/v1/dead/${encodeURIComponent(id)}/requeue`);
        ok++;
        selected.delete(id);
      } catch (e) {
        failed.push(`${id}: ${e.message}`);
      }
    }
    note.append(message(`Requeued ${ok} job${ok === 1 ? '' : 's'}.` + (failed.length ? ' Failed: ' + failed.join('; ') : ''), failed.length ? 'error' : null));
    load();
  }

  load();
  return {
    update(snap) {
      const names = (snap.queues || []).filter((q) => q.dead || q.queue === queue).map((q) => q.queue);
      const have = [...queueSel.options].map((o) => o.value).slice(1);
      if (names.join() !== have.join()) {
        for (const o of [...queueSel.options].slice(1)) o.remove();
        for (const n of names) queueSel.append(h('option', { value: n }, n));
        queueSel.value = queue;
      }
      if (version !== null && snap.jobsVersion !== version) load();
      version = snap.jobsVersion;
    },
    unmount() { gone = true; },
  };
}

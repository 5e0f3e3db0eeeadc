// Overview: totals, per-queue counts by state, throughput and failures over the last minutes.
import { h, clear, fmtMs, fmtN } from './util.js';
import { bars, lastSum } from './charts.js';

const STATES = ['scheduled', 'ready', 'running', 'succeeded', 'dead', 'cancelled'];

export function mount(main) {
  const cards = h('div.cards', { id: 'totals' });
  const chart = h('div', { id: 'throughput' });
  const tbody = h('tbody', { id: 'queue-rows' });
  const table = h('table', { id: 'queues' },
    h('thead', null, h('tr', null,
      h('th', null, 'Queue'), STATES.map((st) => h('th.num', null, st)),
      h('th.num', null, 'Oldest ready'), h('th.num', null, 'Done / 5 min'), h('th', null, 'Last 15 min (succeeded · dead)'))),
    tbody);
  main.append(h('h1', null, 'Overview'), cards,
    h('div.panel', null, h('h2', null, 'Finished jobs per 10 s, all queues, last 15 minutes'), chart,
      h('div.muted', { id: 'throughput-legend' }, '')),
    h('div.panel', null, table));
  tbody.append(h('tr', null, h('td', { colspan: 11, class: 'muted' }, 'Waiting for the live feed…')));

  return {
    update(snap) {
      if (!performance.getEntriesByName('slotted:overview-painted').length) {
        requestAnimationFrame(() => performance.mark('slotted:overview-painted'));
      }
      const qs = snap.queues || [];
      const total = Object.fromEntries(STATES.map((st) => [st, qs.reduce((t, q) => t + (q[st] || 0), 0)]));
      const unroutable = qs.reduce((t, q) => t + (q.unroutable || 0), 0);
      const oldest = qs.reduce((t, q) => Math.max(t, q.oldestReadyAgeMs || 0), 0);
      const alive = (snap.runners || []).filter((r) => r.alive).length;
      const hist = snap.history || { succeeded: {}, dead: {} };
      const names = Object.keys(hist.succeeded || {});
      const len = names.length ? hist.succeeded[names[0]].length : 0;
      const sumOk = new Array(len).fill(0);
      const sumBad = new Array(len).fill(0);
      for (const q of names) {
        hist.succeeded[q].forEach((v, i) => { sumOk[i] += v; });
        (hist.dead[q] || []).forEach((v, i) => { sumBad[i] += v; });
      }
      const perMin = lastSum(sumOk, 6);
      clear(cards);
      const card = (n, l, id) => h('div.card', { 'data-total': id }, h('div.n', null, n), h('div.l', null, l));
      cards.append(
        card(fmtN(total.ready), 'ready', 'ready'), card(fmtN(total.running), 'running', 'running'),
        card(fmtN(total.scheduled), 'scheduled', 'scheduled'), card(fmtN(total.dead), 'dead', 'dead'),
        card(fmtN(total.succeeded), 'succeeded', 'succeeded'), card(fmtN(perMin), 'succeeded / last min', 'rate'),
        card(fmtMs(oldest), 'oldest ready', 'oldest'), card(fmtN(unroutable), 'unroutable', 'unroutable'),
        card(fmtN(alive), 'runners alive', 'runners'));
      clear(chart);
      chart.append(bars(sumOk, sumBad, { width: 900, height: 70, label: 'finished jobs per 10 seconds' }));
      chart.firstChild.setAttribute('preserveAspectRatio', 'none');
      chart.firstChild.style.width = '100%';
      document.getElementById('throughput-legend').textContent =
        `succeeded (green) ${fmtN(lastSum(sumOk, 30))} · dead (red) ${fmtN(lastSum(sumBad, 30))} in the last 5 minutes`;
      const max = Math.max(1, ...names.map((q) => Math.max(...hist.succeeded[q].map((v, i) => v + ((hist.dead[q] || [])[i] || 0)))));
      // Rows are kept and updated in place, so keyboard focus on a link survives the updates.
      if (!tbody.querySelector('tr[data-queue]')) clear(tbody);
      const seen = new Set();
      for (const q of qs) {
        seen.add(q.queue);
        let tr = tbody.querySelector(`tr[data-queue="${CSS.escape(q.queue)}"]`);
        if (!tr) {
          tr = h('tr', { 'data-queue': q.queue },
            h('td', null, h('a', { href: '#/jobs?queue=' + encodeURIComponent(q.queue) }, q.queue),
              q.configured === false ? h('span.muted', { title: 'not in the configuration: nothing serves it' }, ' (unroutable)') : null),
            STATES.map((st) => h('td.num', { 'data-state': st },
              st === 'dead' ? h('a', { href: '#/dead?queue=' + encodeURIComponent(q.queue) }) : null)),
            h('td.num', { 'data-k': 'oldest' }), h('td.num', { 'data-k': 'done' }), h('td', { 'data-k': 'chart' }));
          tbody.append(tr);
        }
        const ok = hist.succeeded[q.queue] || [];
        const bad = hist.dead[q.queue] || [];
        for (const st of STATES) {
          const td = tr.querySelector(`td[data-state="${st}"]`);
          (td.firstElementChild || td).textContent = fmtN(q[st]);
        }
        tr.querySelector('[data-k="oldest"]').textContent = q.ready ? fmtMs(q.oldestReadyAgeMs) : '—';
        tr.querySelector('[data-k="done"]').textContent = fmtN(lastSum(ok, 30) + lastSum(bad, 30));
        const c = tr.querySelector('[data-k="chart"]');
        clear(c);
        c.append(bars(ok, bad, { width: 180, height: 24, max, label: q.queue + ' finished jobs' }));
      }
      for (const tr of tbody.querySelectorAll('tr[data-queue]')) if (!seen.has(tr.dataset.queue)) tr.remove();
    },
    unmount() {},
  };
}

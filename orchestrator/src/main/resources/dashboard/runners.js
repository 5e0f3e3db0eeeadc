// Runners: the TDMA slot timeline. One cycle drawn to scale: each runner's slot, its guard bands
// and its write window, the work of its last window, and a cursor sweeping at real time (server
// clock). Below, the slot table: partitions, buffered and running jobs, overruns.
import { h, s, clear, fmtMs, fmtN, isoMs } from './util.js';

const W = 1000;
const ROW = 34;
const TOP = 22;
const LEFT = 0;
const GHOST_MS = 6000;

export function mount(main) {
  let snap = null;
  let raf = 0;
  let offset = 0;                 // server clock - local clock
  const left = new Map();         // id -> {view, at}: runners that dropped out, shown a while
  let known = null;               // ids at the previous snapshot
  const svgBox = h('div', { id: 'timeline-box' });
  const caption = h('p.muted', { id: 'timeline-caption' });
  const tbody = h('tbody', { id: 'runner-rows' });
  main.append(h('h1', null, 'Runners'),
    h('div.panel', null, caption, svgBox,
      h('p.muted', null, 'Each row is one runner\'s slot: grey ends are the guard bands, the blue band its write window, the solid bar the work of its last window (red when it overran). The orange line is now.')),
    h('div.panel', null, h('table', { id: 'runners' },
      h('thead', null, h('tr', null, ['Runner', 'Slot', 'Window', 'Last work', 'Overruns', 'Buffered', 'Running', 'Partitions', 'Alive'].map((t) => h('th', null, t)))),
      tbody)));

  let cursor = null;
  let cycleMs = 1000;

  function draw() {
    const now = Date.now();
    const alive = (snap.runners || []).filter((r) => r.alive);
    for (const [id, g] of left) if (now - g.at > GHOST_MS) left.delete(id);
    const ghosts = [...left.values()].map((g) => g.view);
    const rows = alive.concat(ghosts);
    cycleMs = alive.length ? isoMs(alive[0].cycle) : (rows.length ? isoMs(rows[0].cycle) : 1000) || 1000;
    const H = TOP + Math.max(rows.length, 1) * ROW + 6;
    const svg = s('svg', { class: 'timeline', id: 'timeline', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': `TDMA cycle of ${fmtMs(cycleMs)} with ${alive.length} runner windows` });
    const x = (ms) => LEFT + (ms / cycleMs) * (W - LEFT);
    for (let i = 0; i <= 10; i++) {
      const t = (cycleMs * i) / 10;
      svg.append(s('line', { class: 'tick', x1: x(t), y1: 14, x2: x(t), y2: H }));
      svg.append(s('text', { x: Math.min(x(t) + 2, W - 40), y: 11 }, fmtMs(Math.round(t))));
    }
    rows.forEach((r, i) => {
      const y = TOP + i * ROW;
      const ghost = !r.alive || left.has(r.id);
      // A runner that registered but has not published a slot yet (its first cycle).
      const joining = !ghost && !isoMs(r.windowEnd);
      const count = Math.max(1, r.count || 1);
      const slotStart = Math.floor((cycleMs * r.index) / count);
      const slotEnd = Math.floor((cycleMs * (r.index + 1)) / count);
      const ws = isoMs(r.windowStart);
      const we = isoMs(r.windowEnd);
      const g = s('g', { 'data-runner': r.id, 'data-index': r.index, 'data-count': count });
      g.append(s('rect', { class: 'slot', x: x(slotStart), y, width: x(slotEnd) - x(slotStart), height: ROW - 6 }));
      if (ghost) {
        g.append(s('rect', { class: 'ghost', x: x(ws), y, width: Math.max(1, x(we) - x(ws)), height: ROW - 6 }));
      } else if (joining) {
        g.append(s('rect', { class: 'ghost', x: 0, y, width: W, height: ROW - 6 }));
      } else {
        if (ws > slotStart) g.append(s('rect', { class: 'guard', x: x(slotStart), y, width: x(ws) - x(slotStart), height: ROW - 6 }, s('title', {}, `guard ${ws - slotStart} ms`)));
        if (we < slotEnd) g.append(s('rect', { class: 'guard', x: x(we), y, width: x(slotEnd) - x(we), height: ROW - 6 }, s('title', {}, `guard ${slotEnd - we} ms`)));
        g.append(s('rect', { class: 'window', x: x(ws), y, width: Math.max(1, x(we) - x(ws)), height: ROW - 6 },
          s('title', {}, `${r.id}: window ${ws}–${we} ms of ${cycleMs} ms`)));
        const work = r.lastSlotWorkMs || 0;
        if (work > 0) {
          const over = ws + work > we;
          g.append(s('rect', { class: 'work' + (over ? ' over' : ''), x: x(ws), y: y + ROW - 12, width: Math.max(1.5, x(Math.min(ws + work, cycleMs)) - x(ws)), height: 5 },
            s('title', {}, `last window's work ${work} ms`)));
        }
      }
      g.append(s('text', { class: 'label', x: x(ws) + 4, y: y + 13 }, `${r.id}${ghost ? ' (left)' : joining ? ' (joining: slot from the next cycle)' : `  slot ${r.index + 1} of ${count}`}`));
      svg.append(g);
    });
    cursor = s('line', { class: 'cursor', id: 'cycle-cursor', x1: 0, y1: 14, x2: 0, y2: H });
    svg.append(cursor);
    clear(svgBox);
    svgBox.append(svg);
    caption.textContent = alive.length
      ? `Cycle ${fmtMs(cycleMs)}, ${alive.length} runner${alive.length === 1 ? '' : 's'} sharing it; each writes only inside its own window.`
      : 'No live runner.';
  }

  function sweep() {
    if (cursor) {
      const t = (((Date.now() + offset) % cycleMs) + cycleMs) % cycleMs;
      const px = (t / cycleMs) * W;
      cursor.setAttribute('x1', px.toFixed(1));
      cursor.setAttribute('x2', px.toFixed(1));
    }
    raf = requestAnimationFrame(sweep);
  }

  function table() {
    const now = Date.now();
    const rows = (snap.runners || []).slice();
    for (const [id, g] of left) if (!rows.some((r) => r.id === id)) rows.push(Object.assign({}, g.view, { alive: false, gone: true }));
    const ids = new Set(rows.map((r) => r.id));
    for (const tr of tbody.querySelectorAll('tr[data-runner]')) if (!ids.has(tr.dataset.runner)) tr.remove();
    for (const r of rows) {
      let tr = tbody.querySelector(`tr[data-runner="${CSS.escape(r.id)}"]`);
      const fresh = !tr;
      const cells = [
        h('td.mono', null, r.id), h('td', null, `${r.index} of ${r.count}`),
        h('td.nowrap', null, `${isoMs(r.windowStart)}–${isoMs(r.windowEnd)} ms`),
        h('td.num', null, fmtMs(r.lastSlotWorkMs)), h('td.num', { class: r.overruns ? 'num err' : 'num' }, fmtN(r.overruns)),
        h('td.num', null, r.buffered === undefined ? '—' : fmtN(r.buffered)),
        h('td.num', null, r.running === undefined ? '—' : fmtN(r.running)),
        h('td', null, h('div.chips', null, (r.partitions || []).map((p) => h('span.chip', null, p)))),
        h('td', null, r.gone ? 'left' : r.alive ? 'yes' : 'lease expired'),
      ];
      if (fresh) {
        tr = h('tr', { 'data-runner': r.id, class: known && !known.has(r.id) ? 'joined' : '' });
        tbody.append(tr);
      }
      clear(tr);
      tr.append(...cells);
      tr.classList.toggle('left', !!r.gone || !r.alive);
    }
    void now;
  }

  return {
    update(next) {
      const ids = new Set((next.runners || []).filter((r) => r.alive).map((r) => r.id));
      if (snap && known) {
        for (const r of snap.runners || []) if (r.alive && !ids.has(r.id)) left.set(r.id, { view: Object.assign({}, r, { alive: false }), at: Date.now() });
      }
      for (const id of ids) left.delete(id);
      snap = next;
      offset = next.now - (next.receivedAt || Date.now());
      draw();
      table();
      known = ids;
      if (!raf) raf = requestAnimationFrame(sweep);
    },
    unmount() {
      cancelAnimationFrame(raf);
      raf = 0;
    },
  };
}

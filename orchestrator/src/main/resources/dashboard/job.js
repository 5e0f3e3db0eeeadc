// Job detail: fields, payload, every attempt on a timeline, the log tail, cancel and requeue.
import { h, s, clear, badge, fmtTime, fmtUtc, fmtMs, message } from './util.js';

export function mount(main, ctx) {
  const id = ctx.arg;
  let version = null;
  let gone = false;
  let shown = '';
  const body = h('div', { id: 'job' }, message('Loading job ' + id + '…'));
  main.append(h('p', null, h('a', { href: '#/jobs' }, '← Jobs')), body);

  async function load() {
    try {
      const j = await ctx.api('/api/v1/jobs/' + encodeURIComponent(id));
      const text = JSON.stringify(j);
      if (!gone && text !== shown) {
        shown = text;
        render(j);
      }
    } catch (e) {
      if (gone) return;
      clear(body);
      body.append(message(e.status === 404 ? `No job with id '${id}'.` : e.message, 'error'));
    }
  }

  async function act(path, what) {
    try {
      await ctx.post(path);
      await load();
    } catch (e) {
      ctx.showError(new Error(what + ' failed: ' + e.message));
    }
  }

  function render(j) {
    clear(body);
    const canCancel = ['scheduled', 'ready', 'running'].includes(j.state);
    const canRequeue = j.state === 'dead';
    body.append(
      h('div.row', null,
        h('h1', null, 'Job ', h('span.mono', null, j.id), ' ', h('span', { id: 'job-state' }, badge(j.state))),
        h('span', { style: 'flex:1' }),
        canCancel ? h('button.danger', { type: 'button', id: 'cancel', onclick: () => act(`/api/v1/jobs/${encodeURIComponent(j.id)}/cancel`, 'Cancel') }, 'Cancel') : null,
        canRequeue ? h('button.primary', { type: 'button', id: 'requeue', onclick: () => act(`/api/v1/dead/${encodeURIComponent(j.id)}/requeue`, 'Requeue') }, 'Requeue') : null),
      h('div.grid2', null,
        h('div.panel', null, h('dl.kv', null,
          kv('Queue', h('a', { href: '#/jobs?queue=' + encodeURIComponent(j.queue) }, j.queue)),
          kv('State', j.state), kv('Attempts', `${j.attemptCount} of ${j.maxAttempts}`),
          kv('Priority', j.priority), kv('Idempotency key', j.idempotencyKey || '—'),
          kv('Partition', `${j.partition}${j.partitionKey ? ' (key ' + j.partitionKey + ')' : ''}`),
          kv('Tags', (j.tags || []).join(', ') || '—'), kv('Timeout', j.timeout || '—'),
          kv('Run at', fmtUtc(j.runAt)), kv('Created', fmtUtc(j.createdAt)), kv('Finished', fmtUtc(j.finishedAt)))),
        h('div.panel', null, h('h2', { style: 'margin-top:0' }, 'Payload'),
          h('pre', { id: 'payload' }, JSON.stringify(j.payload, null, 2)))),
      h('div.panel.attempts', null, h('h2', { style: 'margin-top:0' }, 'Attempts'), timeline(j.attempts || []), attemptTable(j)),
      logPanel(j));
  }

  function kv(k, v) {
    return [h('dt', null, k), h('dd', null, v === null || v === undefined ? '—' : v)];
  }

  function timeline(attempts) {
    if (!attempts.length) return h('p.muted', null, 'No attempt yet.');
    const now = Date.now();
    const t0 = Math.min(...attempts.map((a) => Date.parse(a.startedAt)));
    const t1 = Math.max(...attempts.map((a) => (a.endedAt ? Date.parse(a.endedAt) : now)), t0 + 1);
    const W = 1000; const row = 18; const H = attempts.length * row + 20;
    const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, width: '100%', height: H, role: 'img', 'aria-label': 'attempts timeline', preserveAspectRatio: 'none' });
    attempts.forEach((a, i) => {
      const x0 = ((Date.parse(a.startedAt) - t0) / (t1 - t0)) * (W - 60) + 50;
      const x1 = (((a.endedAt ? Date.parse(a.endedAt) : now) - t0) / (t1 - t0)) * (W - 60) + 50;
      svg.append(s('text', { x: 0, y: i * row + 13 }, '#' + a.number));
      svg.append(s('rect', { class: a.outcome || 'running', x: x0.toFixed(1), y: i * row + 3, width: Math.max(2, x1 - x0).toFixed(1), height: row - 6, rx: 2 },
        s('title', {}, `#${a.number} ${a.outcome || 'running'} ${fmtMs((a.endedAt ? Date.parse(a.endedAt) : now) - Date.parse(a.startedAt))}`)));
    });
    svg.append(s('text', { x: 50, y: H - 4 }, fmtUtc(new Date(t0).toISOString())));
    svg.append(s('text', { x: W - 10, y: H - 4, 'text-anchor': 'end' }, `+${fmtMs(t1 - t0)}`));
    return svg;
  }

  function attemptTable(j) {
    return h('table', { id: 'attempts' },
      h('thead', null, h('tr', null, ['#', 'Runner', 'Worker', 'Started', 'Ended', 'Took', 'Outcome', 'Exit', 'Error', 'Log'].map((t) => h('th', null, t)))),
      h('tbody', null, (j.attempts || []).map((a) => h('tr', null,
        h('td.num', null, a.number), h('td.mono', null, a.runner || '—'), h('td.mono', null, a.worker || '—'),
        h('td.nowrap', null, fmtTime(a.startedAt)), h('td.nowrap', null, fmtTime(a.endedAt)),
        h('td.num', null, a.endedAt ? fmtMs(Date.parse(a.endedAt) - Date.parse(a.startedAt)) : 'running'),
        h('td', null, badge(a.outcome || 'running')), h('td.num', null, a.exitCode ?? '—'),
        h('td', null, a.error || ''),
        h('td', null, h('button.link', { type: 'button', onclick: () => fullLog(j.id, a.number) }, 'full log'))))));
  }

  function logPanel(j) {
    const last = (j.attempts || [])[j.attempts.length - 1];
    const pre = h('pre', { id: 'log' }, last && last.logTail ? last.logTail : '(no output kept)');
    return h('div.panel', { id: 'log-panel' },
      h('div.row', null, h('h2', { id: 'log-title', style: 'margin:0' }, last ? `Log tail, attempt ${last.number}` : 'Log'),
        last ? h('button.link', { type: 'button', onclick: () => fullLog(j.id, last.number) }, 'Full log') : null),
      pre);
  }

  // The log needs the bearer token, so it is fetched and shown here rather than linked.
  async function fullLog(jobId, n) {
    const pre = document.getElementById('log');
    const title = document.getElementById('log-title');
    try {
      const text = await ctx.api(`/api/v1/jobs/${encodeURIComponent(jobId)}/attempts/${n}/log`, { headers: { Accept: 'text/plain' } });
      title.textContent = `Full log, attempt ${n}`;
      pre.textContent = text || '(empty)';
      const url = URL.createObjectURL(new Blob([text], { type: 'text/plain' }));
      title.after(h('a', { href: url, download: `job-${jobId}-attempt-${n}.log` }, 'download'));
      pre.scrollIntoView({ block: 'nearest' });
    } catch (e) {
      ctx.showError(e.status === 404 ? new Error(`No log kept for attempt ${n}.`) : e);
    }
  }

  load();
  return {
    update(snap) {
      if (version !== null && snap.jobsVersion !== version) load();
      version = snap.jobsVersion;
    },
    unmount() { gone = true; },
  };
}

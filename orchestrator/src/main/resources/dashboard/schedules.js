// Schedules: list with next fire times (zone and UTC), recent fires, pause/resume/trigger, and a
// preview of the next N fire times from any instant (GET /api/v1/schedules/{name}/next).
import { h, clear, badge, fmtUtc, fmtZone, message } from './util.js';

export function mount(main, ctx) {
  let gone = false;
  let open = ctx.params.get('name') || null;
  const tbody = h('tbody', { id: 'schedule-rows' });
  const detail = h('div', { id: 'schedule-detail' });
  main.append(h('h1', null, 'Schedules'),
    h('div.panel', null, h('table', { id: 'schedules' },
      h('thead', null, h('tr', null, ['Name', 'When', 'Zone', 'Queue', 'State', 'Next fire (zone)', 'Next fire (UTC)', 'Last fire', ''].map((t) => h('th', null, t)))),
      tbody)),
    detail);

  async function load(withDetail = true) {
    try {
      const list = await ctx.api('/api/v1/schedules');
      if (gone) return;
      clear(tbody);
      if (!list.items.length) tbody.append(h('tr', null, h('td.muted', { colspan: 9 }, 'No schedules.')));
      for (const sc of list.items) {
        tbody.append(h('tr', { 'data-schedule': sc.name },
          h('td', null, h('button.link', { type: 'button', onclick: () => show(sc.name) }, sc.name)),
          h('td.mono', null, sc.cron || ('every ' + sc.every)), h('td', null, sc.timezone),
          h('td', null, sc.job ? sc.job.queue : ''), h('td', null, badge(sc.paused ? 'paused' : 'active')),
          h('td.nowrap', null, fmtZone(sc.nextFireTime, sc.timezone)), h('td.nowrap.mono', null, fmtUtc(sc.nextFireTime)),
          h('td.nowrap.mono', null, fmtUtc(sc.lastFire)),
          h('td.nowrap', null, buttons(sc))));
      }
      if (open && withDetail) show(open);
    } catch (e) {
      if (gone) return;
      clear(tbody);
      tbody.append(h('tr', null, h('td', { colspan: 9 }, message(e.message, 'error'))));
    }
  }

  function buttons(sc) {
    const n = encodeURIComponent(sc.name);
    return [
      sc.paused
        ? h('button', { type: 'button', onclick: () => act(`/api/v1/schedules/${n}/resume`, sc.name) }, 'Resume')
        : h('button', { type: 'button', onclick: () => act(`/api/v1/schedules/${n}/pause`, sc.name) }, 'Pause'),
      ' ',
      h('button', { type: 'button', onclick: () => act(`/api/v1/schedules/${n}/trigger`, sc.name) }, 'Trigger'),
    ];
  }

  async function act(path, name) {
    try {
      await ctx.post(path);
      open = name;
      await load();
    } catch (e) {
      ctx.showError(e);
    }
  }

  async function show(name) {
    open = name;
    try {
      const sc = await ctx.api('/api/v1/schedules/' + encodeURIComponent(name));
      if (gone) return;
      clear(detail);
      const from = h('input', { id: 'preview-from', value: new Date().toISOString(), size: 26, 'aria-label': 'From instant (ISO-8601)' });
      const count = h('input', { id: 'preview-count', type: 'number', min: 1, max: 100, value: 10, style: 'width:5em', 'aria-label': 'How many' });
      const out = h('div', { id: 'preview' });
      const preview = async () => {
        clear(out);
        try {
          const r = await ctx.api(`/api/v1/schedules/${encodeURIComponent(name)}/next?` + new URLSearchParams({ from: from.value.trim(), count: count.value }));
          out.append(h('table', null, h('thead', null, h('tr', null, h('th', null, '#'), h('th', null, 'In ' + r.timezone), h('th', null, 'UTC'))),
            h('tbody', null, r.items.map((t, i) => h('tr', null, h('td.num', null, i + 1), h('td.mono', null, t.local), h('td.mono', null, fmtUtc(t.instant)))))));
        } catch (e) {
          out.append(message(e.message, 'error'));
        }
      };
      detail.append(h('div.panel', null,
        h('h2', { style: 'margin-top:0' }, sc.name, ' ', badge(sc.paused ? 'paused' : 'active')),
        h('div.grid2', null,
          h('div', null,
            h('dl.kv', null,
              [['When', sc.cron || 'every ' + sc.every], ['Zone', sc.timezone], ['Misfire', sc.misfire], ['Overlap', sc.overlap],
                ['Job', JSON.stringify(sc.job)]].map(([k, v]) => [h('dt', null, k), h('dd.mono', null, v)])),
            h('h2', null, 'Next fire times'),
            h('table', null, h('thead', null, h('tr', null, h('th', null, 'In ' + sc.timezone), h('th', null, 'UTC'))),
              h('tbody', null, (sc.nextFireTimes || []).map((t) => h('tr', null, h('td.mono', null, fmtZone(t, sc.timezone)), h('td.mono', null, fmtUtc(t))))))),
          h('div', null,
            h('h2', { style: 'margin-top:0' }, 'Recent fires'),
            (sc.recentFires || []).length
              ? h('table', null, h('thead', null, h('tr', null, ['Fire time (UTC)', 'Kind', 'Job', 'Reason'].map((t) => h('th', null, t)))),
                h('tbody', null, sc.recentFires.slice().reverse().map((f) => h('tr', null, h('td.mono', null, fmtUtc(f.fireInstant)), h('td', null, f.kind),
                  h('td', null, f.jobId ? h('a', { href: '#/jobs/' + encodeURIComponent(f.jobId) }, f.jobId) : '—'), h('td', null, f.reason || '')))))
              : h('p.muted', null, 'None yet.'))),
        h('h2', null, 'Preview fire times from any instant'),
        h('form.filters', { onsubmit: (e) => { e.preventDefault(); preview(); } },
          h('label', null, 'From (ISO-8601 instant)', from), h('label', null, 'Count', count),
          h('button', { type: 'submit' }, 'Preview')),
        out));
    } catch (e) {
      clear(detail);
      detail.append(message(e.message, 'error'));
    }
  }

  load();
  let version = null;
  return {
    update(snap) {
      // A fire adds a job: refresh the list (next and last fire), not the open detail.
      if (version !== null && snap.jobsVersion !== version) load(false);
      version = snap.jobsVersion;
    },
    unmount() { gone = true; },
  };
}

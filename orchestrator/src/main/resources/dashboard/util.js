// Small DOM and formatting helpers shared by the pages.

/** h('tag.class', {attr: v, onclick: f}, ...children): builds an element; strings become text. */
export function h(spec, attrs, ...children) {
  const [tag, ...classes] = spec.split('.');
  const el = document.createElement(tag || 'div');
  if (classes.length) el.className = classes.join(' ');
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else if (k === 'text') el.textContent = v;
      else if (k in el && k !== 'list' && typeof v !== 'string') el[k] = v;
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

const SVG_NS = 'http://www.w3.org/2000/svg';
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined && v !== null) el.setAttribute(k, String(v));
  for (const c of children) if (c !== null && c !== undefined) el.append(c instanceof Node ? c : String(c));
  return el;
}

export function badge(state) {
  return h('span.badge.' + (state || 'none'), { 'data-state': state }, state || '—');
}

export function fmtTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return d.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

export function fmtUtc(iso) {
  return iso ? iso.replace('T', ' ').replace(/(\.\d+)?Z$/, 'Z') : '—';
}

export function fmtZone(iso, zone) {
  if (!iso) return '—';
  try {
    return new Intl.DateTimeFormat('en-CA', {
      timeZone: zone || 'UTC', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit',
      minute: '2-digit', second: '2-digit', hour12: false, timeZoneName: 'short',
    }).format(new Date(iso)).replace(',', '');
  } catch (e) {
    return iso;
  }
}

export function fmtMs(ms) {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1000) return ms + ' ms';
  const sec = ms / 1000;
  if (sec < 60) return sec.toFixed(sec < 10 ? 1 : 0) + ' s';
  const min = sec / 60;
  if (min < 60) return min.toFixed(min < 10 ? 1 : 0) + ' min';
  const hr = min / 60;
  if (hr < 48) return hr.toFixed(1) + ' h';
  return (hr / 24).toFixed(1) + ' d';
}

export function fmtN(n) {
  return n === null || n === undefined ? '—' : Number(n).toLocaleString('en-US');
}

/** ISO-8601 duration (PT1.5S) to milliseconds. */
export function isoMs(d) {
  if (!d) return 0;
  const m = /^PT(?:(\d+)H)?(?:(\d+)M)?(?:([\d.]+)S)?$/.exec(d);
  if (!m) return 0;
  return Math.round(((+m[1] || 0) * 3600 + (+m[2] || 0) * 60 + (+m[3] || 0)) * 1000);
}

export function message(text, kind) {
  return h('div.msg' + (kind ? '.' + kind : ''), { role: kind === 'error' ? 'alert' : 'status' }, text);
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
}

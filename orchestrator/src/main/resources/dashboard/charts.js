// Hand-drawn SVG charts: a stacked bar series (succeeded over dead) per time bucket.
import { s } from './util.js';

/**
 * Bars of ok (bottom) and bad (top) per bucket, oldest left. width/height in px; the y scale is
 * shared when max is given.
 */
export function bars(ok, bad, { width = 180, height = 30, max, label } = {}) {
  const n = Math.max(ok.length, bad.length, 1);
  const top = Math.max(1, max || 0, ...ok.map((v, i) => v + (bad[i] || 0)));
  const w = width / n;
  const svg = s('svg', { class: 'spark', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': label || 'chart' });
  svg.append(s('line', { class: 'axis', x1: 0, y1: height - 0.5, x2: width, y2: height - 0.5 }));
  for (let i = 0; i < n; i++) {
    const o = ok[i] || 0;
    const b = bad[i] || 0;
    const ho = (o / top) * (height - 1);
    const hb = (b / top) * (height - 1);
    const x = i * w;
    if (o) svg.append(s('rect', { class: 'bar-ok', x: x.toFixed(2), y: (height - 1 - ho).toFixed(2), width: Math.max(w - 0.5, 0.5).toFixed(2), height: ho.toFixed(2) }));
    if (b) svg.append(s('rect', { class: 'bar-bad', x: x.toFixed(2), y: (height - 1 - ho - hb).toFixed(2), width: Math.max(w - 0.5, 0.5).toFixed(2), height: hb.toFixed(2) }));
  }
  return svg;
}

/** Sum of the last k values. */
export function lastSum(a, k) {
  let t = 0;
  for (let i = Math.max(0, a.length - k); i < a.length; i++) t += a[i];
  return t;
}

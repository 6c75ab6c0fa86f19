/** Small inline-SVG charts for the evaluation report: no script, no external reference, text escaped. */

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

const W = 460;
const H = 300;
const M = { left: 56, right: 14, top: 14, bottom: 42 };
const PW = W - M.left - M.right;
const PH = H - M.top - M.bottom;

interface Axis {
  min: number;
  max: number;
  log: boolean;
  label: string;
  ticks: number[];
  format: (x: number) => string;
}

function scale(axis: Axis, x: number, length: number): number {
  const f = axis.log ? (Math.log10(Math.max(x, axis.min)) - Math.log10(axis.min)) / (Math.log10(axis.max) - Math.log10(axis.min)) : (x - axis.min) / (axis.max - axis.min || 1);
  return Math.min(1, Math.max(0, f)) * length;
}

export interface Series {
  name: string;
  colour: string;
  points: Array<[number, number]>;
  /** Draw as bars (histograms) instead of a line. */
  bars?: { width: number };
  dashed?: boolean;
}

/** A line/bar chart with axes, ticks and a legend; `title` is the SVG's accessible name. */
export function chart(title: string, x: Axis, y: Axis, series: readonly Series[], marks: ReadonlyArray<{ x: number; label: string }> = []): string {
  const px = (v: number): number => M.left + scale(x, v, PW);
  const py = (v: number): number => M.top + PH - scale(y, v, PH);
  const parts: string[] = [`<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeHtml(title)}"><title>${escapeHtml(title)}</title>`];
  parts.push(`<rect x="${M.left}" y="${M.top}" width="${PW}" height="${PH}" fill="#fff" stroke="#999"/>`);
  for (const t of x.ticks) {
    const X = px(t).toFixed(1);
    parts.push(`<line x1="${X}" y1="${M.top}" x2="${X}" y2="${M.top + PH}" stroke="#eee"/><text x="${X}" y="${M.top + PH + 14}" font-size="10" text-anchor="middle">${escapeHtml(x.format(t))}</text>`);
  }
  for (const t of y.ticks) {
    const Y = py(t).toFixed(1);
    parts.push(`<line x1="${M.left}" y1="${Y}" x2="${M.left + PW}" y2="${Y}" stroke="#eee"/><text x="${M.left - 4}" y="${Y}" font-size="10" text-anchor="end" dominant-baseline="middle">${escapeHtml(y.format(t))}</text>`);
  }
  parts.push(`<text x="${M.left + PW / 2}" y="${H - 8}" font-size="11" text-anchor="middle">${escapeHtml(x.label)}</text>`);
  parts.push(`<text x="12" y="${M.top + PH / 2}" font-size="11" text-anchor="middle" transform="rotate(-90 12 ${M.top + PH / 2})">${escapeHtml(y.label)}</text>`);
  for (const s of series) {
    if (s.bars) {
      for (const [bx, by] of s.points) {
        const x0 = px(bx);
        const x1 = px(bx + s.bars.width);
        parts.push(`<rect x="${x0.toFixed(1)}" y="${py(by).toFixed(1)}" width="${Math.max(0.5, x1 - x0).toFixed(1)}" height="${(M.top + PH - py(by)).toFixed(1)}" fill="${s.colour}" fill-opacity="0.45"/>`);
      }
    } else if (s.points.length > 0) {
      const d = s.points.map(([a, b], i) => `${i === 0 ? 'M' : 'L'}${px(a).toFixed(1)},${py(b).toFixed(1)}`).join('');
      parts.push(`<path d="${d}" fill="none" stroke="${s.colour}" stroke-width="2"${s.dashed ? ' stroke-dasharray="4 3"' : ''}/>`);
    }
  }
  for (const m of marks) {
    const X = px(m.x).toFixed(1);
    parts.push(`<line x1="${X}" y1="${M.top}" x2="${X}" y2="${M.top + PH}" stroke="#333" stroke-dasharray="2 2"/><text x="${X}" y="${M.top + 10}" font-size="9" transform="rotate(90 ${X} ${M.top + 10})">${escapeHtml(m.label)}</text>`);
  }
  series.forEach((s, i) => {
    const ly = M.top + 12 + i * 14;
    parts.push(`<rect x="${M.left + PW - 130}" y="${ly - 8}" width="10" height="10" fill="${s.colour}"/><text x="${M.left + PW - 116}" y="${ly}" font-size="10">${escapeHtml(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

export function logTicks(min: number, max: number): number[] {
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) if (10 ** e >= min && 10 ** e <= max) ticks.push(10 ** e);
  return ticks;
}

export function linearTicks(min: number, max: number, count = 5): number[] {
  const step = (max - min) / count || 1;
  return Array.from({ length: count + 1 }, (_, i) => min + i * step);
}

export const fmtRate = (x: number): string => (x >= 0.01 ? `${Math.round(x * 100)}%` : x.toExponential(0));

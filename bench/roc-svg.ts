/** A small, dependency-free SVG plot of a ROC curve: log-scale FAR on x, TAR on y, one threshold marked. */

export interface RocSvgPoint {
  far: number;
  tar: number;
  threshold: number;
}

export interface RocSvgOptions {
  title: string;
  /** Second, smaller title line. */
  subtitle?: string;
  /** Bottom of the TAR axis (0..1); points below it are clamped to it. */
  minTar?: number;
  /** Threshold to mark on the curve (the model's default). */
  mark?: { threshold: number; far: number; tar: number; label: string };
  /** Lowest FAR on the axis (a power of ten); points below it are clamped to it. */
  minFar?: number;
  width?: number;
  height?: number;
}

const escapeXml = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The curve is drawn as one polyline with exactly one vertex per input point. */
export function rocSvg(points: readonly RocSvgPoint[], options: RocSvgOptions): string {
  const width = options.width ?? 720;
  const height = options.height ?? 480;
  const margin = { left: 70, right: 30, top: options.subtitle ? 64 : 50, bottom: 60 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const positiveFars = points.map((p) => p.far).filter((f) => f > 0);
  const floor = options.minFar ?? 10 ** Math.floor(Math.log10(Math.min(1e-3, ...positiveFars)));
  const minExp = Math.floor(Math.log10(floor));
  const x = (far: number): number => margin.left + ((Math.log10(Math.max(far, floor)) - minExp) / -minExp) * plotW;
  const minTar = Math.min(0.9, Math.max(0, options.minTar ?? 0));
  const y = (tar: number): number => margin.top + ((1 - Math.max(tar, minTar)) / (1 - minTar)) * plotH;
  const fmt = (v: number): string => v.toFixed(1);

  const parts: string[] = [];
  parts.push(
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="13">`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="26" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(options.title)}</text>`,
  );
  if (options.subtitle) {
    parts.push(`<text x="${width / 2}" y="46" text-anchor="middle" font-size="12" fill="#555">${escapeXml(options.subtitle)}</text>`);
  }
  // Grid and tick labels.
  for (let e = minExp; e <= 0; e++) {
    const gx = fmt(x(10 ** e));
    parts.push(
      `<line x1="${gx}" y1="${margin.top}" x2="${gx}" y2="${margin.top + plotH}" stroke="#ddd"/>`,
      `<text x="${gx}" y="${margin.top + plotH + 20}" text-anchor="middle">${e === 0 ? '1' : `1e${e}`}</text>`,
    );
  }
  const steps = 10;
  for (let t = 0; t <= steps; t += 1) {
    const tar = minTar + ((1 - minTar) * t) / steps;
    const gy = fmt(y(tar));
    parts.push(
      `<line x1="${margin.left}" y1="${gy}" x2="${margin.left + plotW}" y2="${gy}" stroke="#ddd"/>`,
      `<text x="${margin.left - 8}" y="${gy}" text-anchor="end" dominant-baseline="middle">${tar.toFixed(minTar > 0 ? 2 : 1)}</text>`,
    );
  }
  parts.push(
    `<rect x="${margin.left}" y="${margin.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`,
    `<text x="${margin.left + plotW / 2}" y="${height - 15}" text-anchor="middle">false-accept rate (FAR, log scale)</text>`,
    `<text x="18" y="${margin.top + plotH / 2}" text-anchor="middle" transform="rotate(-90 18 ${margin.top + plotH / 2})">true-accept rate (TAR = 1 − FRR)</text>`,
  );
  const vertices = points.map((p) => `${fmt(x(p.far))},${fmt(y(p.tar))}`).join(' ');
  parts.push(`<polyline class="roc" fill="none" stroke="#1f77b4" stroke-width="2" points="${vertices}"/>`);
  if (options.mark) {
    const mx = x(options.mark.far);
    const my = y(options.mark.tar);
    // Legend in the lower-right corner, which a ROC curve never crosses.
    const lx = margin.left + plotW - 12;
    const ly = margin.top + plotH - 16;
    parts.push(
      `<circle cx="${fmt(mx)}" cy="${fmt(my)}" r="5" fill="#d62728"/>`,
      `<line x1="${fmt(mx)}" y1="${fmt(my)}" x2="${fmt(mx)}" y2="${fmt(Math.max(my, ly - 18))}" stroke="#d62728" stroke-dasharray="4 3"/>`,
      `<text x="${lx}" y="${ly}" text-anchor="end" fill="#d62728">● ${escapeXml(options.mark.label)}</text>`,
    );
  }
  parts.push('</svg>', '');
  return parts.join('\n');
}

import { basename } from 'node:path';
import { chart, escapeHtml as h, fmtRate, linearTicks, logTicks, type Series } from './svg.js';
import type { EvaluationReport, PhotoRef } from './types.js';

const pct = (x: number | null | undefined, digits = 2): string => (x === null || x === undefined ? '—' : `${(100 * x).toFixed(digits)} %`);
const SHOWN = 60;

/**
 * The evaluation as one self-contained HTML page: numbers, ROC and DET curves and the genuine / impostor
 * histograms as inline SVG, and thumbnails (the aligned face crops, inline as data: JPEG) of every problem and every
 * misidentified photo beside what it was confused with. Nothing is fetched from anywhere: no URL but data: ones.
 */
export function renderEvaluationHtml(report: EvaluationReport, crops: ReadonlyMap<string, Uint8Array>): string {
  const thumb = (ref: PhotoRef, caption?: string): string => {
    const crop = crops.get(ref.path);
    const img = crop ? `<img src="data:image/jpeg;base64,${Buffer.from(crop).toString('base64')}" width="84" height="84" alt="${h(ref.person)}">` : '<div class="noimg">no face</div>';
    return `<figure>${img}<figcaption>${h(ref.person)}<br><small>${h(basename(ref.path))}${caption ? `<br>${h(caption)}` : ''}</small></figcaption></figure>`;
  };
  const section = (id: string, title: string, count: number, body: string, empty = 'none found'): string =>
    `<section id="${id}"><h2>${h(title)} <span class="count">${count}</span></h2>${count === 0 ? `<p class="none">${h(empty)}</p>` : body}</section>`;
  const more = (n: number): string => (n > SHOWN ? `<p class="none">… and ${n - SHOWN} more (all in <code>--json</code>).</p>` : '');
  const v = report.verification;
  const id = report.identification;

  const rows = v.points
    .map((p) => {
      const engine = v.engineThresholds.find((e) => e.far === p.far)?.threshold;
      return `<tr><td>${p.far.toExponential(0)}</td><td>${p.threshold ?? `not measurable (needs ≥ ${p.impostorPairsNeeded} pairs)`}</td><td>${pct(p.frr)}</td><td>${p.frrInterval ? `${pct(p.frrInterval.low)} – ${pct(p.frrInterval.high)}` : '—'}</td><td>${p.enoughPairs ? 'yes' : `<b>no</b> (needs ≥ ${p.impostorPairsNeeded})`}</td><td>${engine ?? '—'}</td></tr>`;
    })
    .join('');

  const finite = v.curve.filter((p) => p.far > 0);
  const minFar = Math.max(1e-7, Math.min(...finite.map((p) => p.far), 1e-4));
  const roc: Series = { name: 'TAR (1 − FRR)', colour: '#1f6fd1', points: finite.map((p) => [p.far, 1 - p.frr]) };
  const det: Series = { name: 'FRR', colour: '#c0392b', points: finite.filter((p) => p.frr > 0).map((p) => [p.far, p.frr]) };
  const minFrr = Math.max(1e-5, Math.min(...det.points.map(([, y]) => y), 1e-2));
  const farAxis = { min: minFar, max: 1, log: true, label: 'false-accept rate (log)', ticks: logTicks(minFar, 1), format: fmtRate };
  const marks = v.points.flatMap((p) => (p.threshold === null ? [] : [{ x: p.far, label: `FAR ${p.far.toExponential(0)}` }]));
  const rocSvg = chart('ROC curve', farAxis, { min: 0, max: 1, log: false, label: 'true-accept rate', ticks: linearTicks(0, 1), format: (x) => `${Math.round(x * 100)}%` }, [roc], marks);
  const detSvg = chart('DET curve', farAxis, { min: minFrr, max: 1, log: true, label: 'false-reject rate (log)', ticks: logTicks(minFrr, 1), format: fmtRate }, [det], marks);
  const hist = v.histogram;
  const maxShare = Math.max(0.01, ...hist.genuine, ...hist.impostor);
  const binsOf = (shares: number[]): Array<[number, number]> => shares.map((s, i) => [hist.start + i * hist.width, s]);
  const histSvg = chart(
    'Distance histograms',
    { min: hist.start, max: hist.start + hist.width * hist.genuine.length, log: false, label: 'distance', ticks: linearTicks(hist.start, hist.start + hist.width * hist.genuine.length), format: (x) => x.toFixed(2) },
    { min: 0, max: maxShare, log: false, label: 'share of pairs', ticks: linearTicks(0, maxShare, 4), format: (x) => `${(x * 100).toFixed(0)}%` },
    [
      { name: `same person (${report.pairs.genuine})`, colour: '#27ae60', points: binsOf(hist.genuine), bars: { width: hist.width } },
      { name: `different (${report.pairs.impostor})`, colour: '#c0392b', points: binsOf(hist.impostor), bars: { width: hist.width } },
    ],
    [{ x: id.threshold, label: `identify ${id.threshold}` }],
  );

  const mislabels = report.mislabels
    .slice(0, SHOWN)
    .map((m) => `<div class="row">${thumb(m, `labelled ${m.person}`)}<span class="arrow">looks like</span>${thumb(m.nearest, `distance ${m.nearest.distance}`)}<span class="arrow">own nearest</span>${thumb(m.nearestOwn, `distance ${m.nearestOwn.distance}`)}</div>`)
    .join('');
  const duplicates = report.duplicates
    .slice(0, SHOWN)
    .map((d) => `<div class="row">${thumb(d.a)}<span class="arrow">${d.kind === 'identical' ? 'identical file' : `near-identical (${d.distance})`}${d.samePerson ? '' : '<br><b>different labels</b>'}</span>${thumb(d.b)}</div>`)
    .join('');
  const misidentified = id.misidentified
    .slice(0, SHOWN)
    .map((m) => `<div class="row">${thumb(m)}<span class="arrow">${m.answer === 'unknown' ? 'unknown; nearest' : 'named as'}</span>${thumb(m.nearest, `distance ${m.nearest.distance}`)}${m.nearestOwn ? `<span class="arrow">own nearest</span>${thumb(m.nearestOwn, `distance ${m.nearestOwn.distance}`)}` : ''}</div>`)
    .join('');
  const several = report.severalFaces
    .slice(0, SHOWN)
    .map((p) => thumb(p, `${p.facesFound} faces, took the ${p.taken === 'centre' ? 'one at the centre' : 'largest'}`))
    .join('');
  const noFace = report.noFace.slice(0, SHOWN).map((p) => `<li>${h(p.path)}</li>`).join('');
  const unreadable = report.unreadable.slice(0, SHOWN).map((p) => `<li>${h(p.path)}: ${h(p.message)}</li>`).join('');
  const spread = report.spreadPeople
    .slice(0, SHOWN)
    .map((s) => `<tr><td>${h(s.person)}</td><td>${s.missed} / ${s.photos}</td><td>${s.medianDistance}</td></tr>`)
    .join('');

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>facedb evaluation: ${h(report.folder)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1100px;padding:0 16px;color:#222}
h1{font-size:22px}h2{font-size:18px;border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:32px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:4px 8px;text-align:left}th{background:#f5f5f5}
.charts{display:flex;flex-wrap:wrap;gap:12px}.count{font-weight:normal;color:#666;font-size:14px}.none{color:#666}
figure{display:inline-block;margin:4px;width:96px;text-align:center;vertical-align:top}figcaption{font-size:11px;word-wrap:break-word}
figure img{border-radius:4px;border:1px solid #ccc}.noimg{width:84px;height:84px;background:#eee;display:flex;align-items:center;justify-content:center;margin:auto;font-size:11px}
.row{display:flex;align-items:center;gap:4px;border-bottom:1px solid #f0f0f0;padding:4px 0}.arrow{font-size:12px;color:#555;width:110px;text-align:center}
.warn{background:#fff4d6;border:1px solid #e0c060;padding:8px}
</style></head><body>
<h1>facedb evaluation of ${h(report.folder)}</h1>
${report.interrupted ? '<p class="warn">Interrupted: these numbers cover only the photos embedded before Ctrl-C.</p>' : ''}
<section id="summary"><h2>Summary</h2><table>
<tr><th>model</th><td>${h(report.model)} (engine ${h(report.engine)})</td></tr>
<tr><th>photos</th><td>${report.photos.total} (${report.photos.withFace} with a face, ${report.photos.noFace} without, ${report.photos.unreadable} unreadable, ${report.photos.severalFaces} with several faces)</td></tr>
<tr><th>people</th><td>${report.people.total} (${report.people.withTwoOrMore} with two photos or more, ${report.people.singletons} with one)</td></tr>
<tr><th>pairs</th><td>${report.pairs.genuine} same-person, ${report.pairs.impostor} different-person${report.pairs.sampling ? ` (a deterministic sample of ${report.pairs.impostorInFolder}: ${h(report.pairs.sampling.method)}, seed ${report.pairs.sampling.seed})` : ''}</td></tr>
<tr><th>rank-1</th><td>${pct(id.rank1.rate)} (${id.rank1.correct} / ${id.rank1.probes})</td></tr>
<tr><th>EER</th><td>${v.eer ? `${pct(v.eer.eer)} at distance ${v.eer.threshold}` : '—'}</td></tr>
<tr><th>measured</th><td>${h(report.measuredAt)} in ${(report.elapsedMs / 1000).toFixed(1)} s</td></tr>
</table></section>
<section id="verification"><h2>Verification</h2>
<p>Each pair of photos is accepted when its distance is at most the threshold. The threshold at each FAR is measured on <em>these</em> people; the engine's built-in threshold is beside it. The interval is a 95 % Wilson interval of the false-reject rate. A FAR needs at least 3 / FAR different-person pairs to mean anything (with no false accept among n pairs, only FAR &lt; 3/n can be claimed at 95 %).</p>
<table><tr><th>FAR</th><th>threshold here</th><th>FRR</th><th>95 % interval</th><th>enough pairs</th><th>engine's threshold</th></tr>${rows}</table>
<div class="charts">${rocSvg}${detSvg}${histSvg}</div></section>
<section id="identification"><h2>Identification</h2>
<p>Leave-one-out: each photo of a person with another photo is searched against every other photo, as identify would answer it, at identify's threshold <b>${id.threshold}</b> (${h(id.thresholdSource)}).</p>
<table><tr><th>rank-1</th><td>${pct(id.rank1.rate)} (${id.rank1.correct} / ${id.rank1.probes})</td></tr>
<tr><th>open set</th><td>${id.openSet.named} named correctly, ${id.openSet.wrongPerson} named as someone else, ${id.openSet.unknown} unknown</td></tr>
<tr><th>singletons</th><td>${id.singletons.total}: ${id.singletons.namedAsSomeoneElse} would be named as someone else, ${id.singletons.unknown} unknown (right)</td></tr></table></section>
${section('misidentified', 'Misidentified photos', id.misidentified.length, misidentified + more(id.misidentified.length))}
${section('mislabels', 'Likely mislabels', report.mislabels.length, `<p>${h(report.rules.mislabel)}. Ranked by how much nearer the other person is.</p>${mislabels}${more(report.mislabels.length)}`)}
${section('duplicates', 'Duplicates and near-duplicates', report.duplicates.length, `<p>${h(report.rules.nearDuplicate)}.</p>${duplicates}${more(report.duplicates.length)}`)}
${section('spread', 'People spread widely', report.spreadPeople.length, `<p>${h(report.rules.spread)}.</p><table><tr><th>person</th><th>missed</th><th>median distance</th></tr>${spread}</table>`)}
${section('several-faces', 'Photos with several faces', report.severalFaces.length, `<div>${several}</div>${more(report.severalFaces.length)}`)}
${section('no-face', 'Photos with no face', report.noFace.length, `<ul>${noFace}</ul>${more(report.noFace.length)}`)}
${section('unreadable', 'Unreadable files', report.unreadable.length, `<ul>${unreadable}</ul>${more(report.unreadable.length)}`)}
</body></html>
`;
}

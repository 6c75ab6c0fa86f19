import type { GalleryCalibration } from '../store/calibration.js';
import type { EvaluationReport } from '../services/evaluation/types.js';
import { shown } from './report.js';

const pct = (x: number | null, digits = 2): string => (x === null ? '—' : `${(100 * x).toFixed(digits)} %`);
const far = (x: number): string => x.toExponential(0).replace('e-', 'e-');
const LIST_LIMIT = 10;

function listed<T>(title: string, items: readonly T[], line: (item: T) => string): string[] {
  if (items.length === 0) return [];
  return [
    `${title} (${items.length}):`,
    ...items.slice(0, LIST_LIMIT).map((item) => `  ${line(item)}`),
    ...(items.length > LIST_LIMIT ? [`  … ${items.length - LIST_LIMIT} more (see --json or --report)`] : []),
  ];
}

/** The evaluation as a person reads it on a terminal: numbers first, then the problems, a few of each. */
export function formatEvaluation(report: EvaluationReport): string {
  const v = report.verification;
  const id = report.identification;
  const lines = [
    `${shown(report.folder)}: ${report.people.total} people, ${report.photos.total} photos, ${report.photos.withFace} with a face; ${report.model} (engine ${report.engine})` +
      (report.interrupted ? '  [INTERRUPTED: partial]' : ''),
    `pairs: ${report.pairs.genuine} same-person, ${report.pairs.impostor} different-person` +
      (report.pairs.sampling ? ` (sampled from ${report.pairs.impostorInFolder}, seed ${report.pairs.sampling.seed})` : ''),
    '',
    'verification        threshold   FRR (95 % interval)            engine threshold',
    ...v.points.map((p) => {
      const engine = v.engineThresholds.find((e) => e.far === p.far)?.threshold ?? null;
      const measured =
        p.threshold === null
          ? `not measurable: needs ≥ ${p.impostorPairsNeeded} different-person pairs`
          : `${p.threshold.toFixed(4).padEnd(10)}  ${pct(p.frr).padEnd(9)} (${pct(p.frrInterval?.low ?? null)}–${pct(p.frrInterval?.high ?? null)})` +
            (p.enoughPairs ? '' : `  [too few pairs: needs ≥ ${p.impostorPairsNeeded}]`);
      return `  FAR ${far(p.far).padEnd(6)}  ${measured.padEnd(48)} ${engine === null ? '—' : engine}`;
    }),
    `  EER ${v.eer ? `${pct(v.eer.eer)} at ${v.eer.threshold}` : '—'}`,
    '',
    `identification at identify's threshold ${id.threshold} (${shown(id.thresholdSource)}):`,
    `  rank-1 ${pct(id.rank1.rate)} (${id.rank1.correct}/${id.rank1.probes}); open set: ${id.openSet.named} named, ${id.openSet.wrongPerson} as someone else, ${id.openSet.unknown} unknown`,
    `  singletons: ${id.singletons.total}, ${id.singletons.namedAsSomeoneElse} would be named as someone else`,
    '',
    ...listed('unreadable', report.unreadable, (p) => `${shown(p.path)}: ${shown(p.message)}`),
    ...listed('no face', report.noFace, (p) => shown(p.path)),
    ...listed('several faces', report.severalFaces, (p) => `${shown(p.path)}: ${p.facesFound} faces, took the ${p.taken === 'centre' ? 'one at the centre' : 'largest'}`),
    ...listed('likely mislabels', report.mislabels, (m) => `${shown(m.path)} (${shown(m.person)}) looks like ${shown(m.probably)}: ${m.nearest.distance} to ${shown(m.nearest.path)}, own nearest ${m.nearestOwn.distance}`),
    ...listed('duplicates', report.duplicates, (d) => `${d.kind === 'identical' ? 'identical' : `near (${d.distance})`}: ${shown(d.a.path)} = ${shown(d.b.path)}${d.samePerson ? '' : '  [different people]'}`),
    ...listed('people spread widely', report.spreadPeople, (s) => `${shown(s.person)}: ${s.missed}/${s.photos} photos missed, median distance ${s.medianDistance}`),
    ...listed('misidentified', id.misidentified, (m) => `${shown(m.path)}: ${m.answer === 'unknown' ? 'unknown' : `named ${shown(m.nearest.person)}`} (nearest ${m.nearest.distance}, own ${m.nearestOwn?.distance ?? '—'})`),
    `(${(report.elapsedMs / 1000).toFixed(1)} s)`,
  ];
  return lines.join('\n');
}

export function formatApplied(calibration: GalleryCalibration): string {
  const point = calibration.points.find((p) => p.far === calibration.far);
  return (
    `applied: this gallery now identifies and verifies at threshold ${point?.threshold} (FAR ${calibration.far} on ${calibration.sample.people} people, ` +
    `FRR ${pct(point?.frr ?? null)}); stored points: ${calibration.points.map((p) => `FAR ${p.far} → ${p.threshold}`).join(', ')}. ` +
    '`facedb evaluate --reset` returns to the engine\'s calibration.'
  );
}

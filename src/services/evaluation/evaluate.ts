import { calibrationKey, thresholdForFar } from '../../core/confidence.js';
import { equalErrorRate, errorCurve, histograms, pointAtFar } from '../../core/verification.js';
import { engineForModel } from '../../engine/registry.js';
import { FacedbError } from '../../errors/errors.js';
import type { FaceService } from '../face-service.js';
import { describeOperatingPoint } from '../operating-point-source.js';
import { embedPhotos, type EmbedOptions } from './embed.js';
import { countPerPerson, labelledPhotos } from './folder.js';
import { faceRows, MAX_IMPOSTOR_PAIRS, pairPassNear, SAMPLING_SEED } from './pairs.js';
import {
  duplicates,
  identifyAnswers,
  MISLABEL_RULE,
  mislabels,
  misidentified,
  NEAR_DUPLICATE_RATIO,
  round,
  SPREAD_MISS_SHARE,
  spreadPeople,
  type ProblemContext,
} from './problems.js';
import type { EvaluationReport } from './types.js';

/** The FAR points measured when none are asked for. */
export const DEFAULT_FARS: readonly number[] = [1e-2, 1e-3, 1e-4];

export interface EvaluateOptions extends EmbedOptions {
  /** Target false-accept rates to report (default DEFAULT_FARS). */
  fars?: readonly number[];
}

export interface Evaluation {
  report: EvaluationReport;
  /** Aligned face crops (JPEG) by photo path, when `keepCrops` was asked for: the HTML report's thumbnails. */
  crops: Map<string, Uint8Array>;
}

/**
 * Measures how well the service's engine does on a folder of labelled photos (LFW layout): verification (FRR at
 * each FAR with a 95 % interval, EER, the population's thresholds beside the engine's), leave-one-out
 * identification at identify's threshold, and the folder's problems. Embeds as enroll does; writes nothing.
 */
export async function evaluateFolder(service: FaceService, folder: string, options: EvaluateOptions = {}): Promise<Evaluation> {
  const started = performance.now();
  const fars = checkFars(options.fars ?? DEFAULT_FARS);
  const items = await labelledPhotos(folder);
  const engine = await service.engine();
  const gallery = await service.refreshGalleryCalibration();
  const embedded = await embedPhotos(service, items, options);
  const { photos, embeddings } = embedded;

  const { people, rows } = faceRows(photos, embeddings);
  const withFace = countPerPerson(rows.map((r) => ({ person: String(r.person) })));
  if (withFace.size < 2 || ![...withFace.values()].some((n) => n >= 2)) {
    throw new FacedbError(
      'insufficient_data',
      `only ${rows.length} of the ${photos.length} photos${embedded.interrupted ? ' embedded before the interrupt' : ''} have a face, from ${withFace.size} people: ` +
        'evaluating needs faces of at least two people and two faces of someone',
      { details: { path: folder, reason: 'too_few_faces', faces: rows.length, photos: photos.length } },
    );
  }

  const { pass, medianGenuine } = pairPassNear(rows, NEAR_DUPLICATE_RATIO);
  const nearDistance = NEAR_DUPLICATE_RATIO * medianGenuine;
  const threshold = service.threshold(engine, {}, 'identify');
  const ctx: ProblemContext = { photos, rows, people, pass, threshold };
  const answers = identifyAnswers(ctx);
  const key = calibrationKey(engine.model);

  let singletons = 0;
  let namedAsSomeoneElse = 0;
  rows.forEach((_, row) => {
    if (pass.nearestOwn[row]! >= 0) return;
    singletons += 1;
    if (pass.nearestOtherDistance[row]! <= threshold) namedAsSomeoneElse += 1;
  });
  const correct = rows.filter((_, row) => pass.nearestOwn[row]! >= 0 && pass.nearestOwnDistance[row]! < pass.nearestOtherDistance[row]!).length;
  const count = (answer: string): number => answers.filter((a) => a.answer === answer).length;
  const ref = (photo: { path: string; person: string }): { path: string; person: string } => ({ path: photo.path, person: photo.person });
  const peopleWithTwo = [...countPerPerson(photos).values()].filter((n) => n >= 2).length;

  const report: EvaluationReport = {
    folder,
    model: key,
    engine: engineForModel(engine.model)?.name ?? key,
    measuredAt: new Date().toISOString(),
    interrupted: embedded.interrupted,
    elapsedMs: 0,
    photos: {
      total: photos.length,
      withFace: rows.length,
      noFace: photos.filter((p) => p.status === 'no_face').length,
      unreadable: photos.filter((p) => p.status === 'unreadable').length,
      severalFaces: photos.filter((p) => p.facesFound > 1).length,
    },
    people: { total: people.length, withTwoOrMore: peopleWithTwo, singletons: people.length - peopleWithTwo },
    pairs: {
      genuine: pass.genuine.length,
      impostor: pass.impostor.length,
      impostorInFolder: pass.impostorInFolder,
      sampling: pass.sampled
        ? { seed: SAMPLING_SEED, method: `each different-person pair kept with probability ${MAX_IMPOSTOR_PAIRS} / ${pass.impostorInFolder}, in pair order (mulberry32)` }
        : null,
    },
    verification: {
      points: fars.map((far) => roundPoint(pointAtFar(pass.genuine, pass.impostor, far))),
      eer: roundEer(equalErrorRate(pass.genuine, pass.impostor)),
      engineThresholds: fars.map((far) => ({ far, threshold: engineThreshold(engine.calibration, far, key) })),
      curve: errorCurve(pass.genuine, pass.impostor).map((p) => ({ threshold: round(p.threshold), far: p.far, frr: p.frr })),
      histogram: histograms(pass.genuine, pass.impostor),
    },
    identification: {
      threshold,
      thresholdSource: describeOperatingPoint(service.config, gallery, engine).text,
      rank1: { correct, probes: answers.length, rate: answers.length ? round(correct / answers.length, 6) : null },
      openSet: { named: count('named'), wrongPerson: count('wrong_person'), unknown: count('unknown') },
      singletons: { total: singletons, namedAsSomeoneElse, unknown: singletons - namedAsSomeoneElse },
      misidentified: misidentified(ctx, answers),
    },
    noFace: photos.filter((p) => p.status === 'no_face').map(ref),
    severalFaces: photos.flatMap((p) => (p.facesFound > 1 && p.box && p.taken ? [{ ...ref(p), facesFound: p.facesFound, taken: p.taken, box: p.box }] : [])),
    unreadable: photos.flatMap((p) => (p.status === 'unreadable' ? [{ ...ref(p), message: p.message ?? 'unreadable' }] : [])),
    mislabels: mislabels(ctx),
    duplicates: duplicates(ctx),
    spreadPeople: spreadPeople(ctx, answers),
    rules: {
      mislabel: `${MISLABEL_RULE}: another person's photo is nearer than any of its own folder's, identify would name it as that person (distance ≤ ${threshold}), and none of its own folder's photos is within ${threshold}`,
      nearDuplicate: `the same file content, or embeddings at most ${round(nearDistance)} apart (${NEAR_DUPLICATE_RATIO} × the median same-person distance ${round(nearDistance / NEAR_DUPLICATE_RATIO)})`,
      spread: `identify (leave-one-out, threshold ${threshold}) misses or mistakes at least ${SPREAD_MISS_SHARE * 100} % of the person's photos`,
    },
  };
  report.elapsedMs = Math.round(performance.now() - started);
  return { report, crops: embedded.crops };
}

function checkFars(fars: readonly number[]): number[] {
  if (fars.length === 0) throw new FacedbError('invalid_input', 'give at least one target FAR');
  for (const far of fars) {
    if (!(Number.isFinite(far) && far > 0 && far < 1)) throw new FacedbError('invalid_input', `a target FAR must be a number between 0 and 1 (exclusive), got ${far}`);
  }
  return [...new Set(fars)].sort((a, b) => b - a);
}

function engineThreshold(calibration: Parameters<typeof thresholdForFar>[0], far: number, key: string): number | null {
  try {
    return thresholdForFar(calibration, far, key);
  } catch {
    return null; // no calibration, or outside what the engine's measurement resolves
  }
}

function roundPoint(p: ReturnType<typeof pointAtFar>): ReturnType<typeof pointAtFar> {
  const r = (x: number | null, digits = 6): number | null => (x === null ? null : round(x, digits));
  return {
    ...p,
    // Down, so the rounded threshold never accepts more impostors than the measured one.
    threshold: p.threshold === null ? null : Math.floor(p.threshold * 1e4) / 1e4,
    measuredFar: r(p.measuredFar, 9),
    frr: r(p.frr),
    frrInterval: p.frrInterval && { low: round(p.frrInterval.low, 6), high: round(p.frrInterval.high, 6) },
  };
}

function roundEer(e: ReturnType<typeof equalErrorRate>): ReturnType<typeof equalErrorRate> {
  return e && { eer: round(e.eer, 6), threshold: round(e.threshold) };
}

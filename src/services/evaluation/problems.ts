import type { PairPass, FaceRow } from './pairs.js';
import { median } from './pairs.js';
import type { Duplicate, EvaluatedPhoto, Mislabel, MisidentifiedPhoto, PhotoRef, SpreadPerson } from './types.js';

/**
 * Which photos count as likely mislabels, from each photo's nearest photo of its own folder and of another person,
 * and identify's threshold T:
 *  - 'nearer-other': another person's photo is nearer than any of its own folder's;
 *  - 'named-other': and identify would name it as that person (nearest other ≤ T);
 *  - 'named-other-not-own': and none of its own folder's photos is within T either.
 * MISLABEL_RULE was chosen with `npm run bench:evaluate` on half A of the shared LFW subset's people (planted
 * mislabels found against false alarms) and confirmed on half B; see docs/evaluate.md.
 */
export type MislabelRule = 'nearer-other' | 'named-other' | 'named-other-not-own';
export const MISLABEL_RULE: MislabelRule = 'named-other-not-own';

/**
 * Near-duplicates: two photos whose embeddings are at most this share of the folder's median same-person distance
 * apart (scale-free, so no model-specific distance is built in). Chosen with `npm run bench:evaluate` on half A
 * (planted re-encoded copies found against false alarms), confirmed on half B.
 */
export const NEAR_DUPLICATE_RATIO = 0.2;

/** A person is "spread" when identify would miss (or mistake) at least this share of their photos, leave-one-out. */
export const SPREAD_MISS_SHARE = 0.5;

export interface ProblemContext {
  photos: readonly EvaluatedPhoto[];
  rows: readonly FaceRow[];
  people: readonly string[];
  pass: PairPass;
  threshold: number;
}

const ref = (ctx: ProblemContext, row: number): PhotoRef => {
  const photo = ctx.photos[ctx.rows[row]!.photo]!;
  return { path: photo.path, person: photo.person };
};
const refAt = (ctx: ProblemContext, row: number, distance: number): PhotoRef & { distance: number } => ({ ...ref(ctx, row), distance: round(distance) });

export function round(x: number, digits = 4): number {
  const scale = 10 ** digits;
  return Math.round(x * scale) / scale;
}

/** Rows whose person has at least one other face: the leave-one-out probes. */
export function isProbe(ctx: ProblemContext, row: number): boolean {
  return ctx.pass.nearestOwn[row]! >= 0;
}

export function isMislabel(ctx: ProblemContext, row: number, rule: MislabelRule = MISLABEL_RULE): boolean {
  if (!isProbe(ctx, row) || ctx.pass.nearestOther[row]! < 0) return false;
  const own = ctx.pass.nearestOwnDistance[row]!;
  const other = ctx.pass.nearestOtherDistance[row]!;
  if (!(other < own)) return false;
  if (rule === 'nearer-other') return true;
  if (other > ctx.threshold) return false;
  return rule === 'named-other' || own > ctx.threshold;
}

export function mislabels(ctx: ProblemContext, rule: MislabelRule = MISLABEL_RULE): Mislabel[] {
  const found: Mislabel[] = [];
  ctx.rows.forEach((_, row) => {
    if (!isMislabel(ctx, row, rule)) return;
    const other = ctx.pass.nearestOther[row]!;
    const own = ctx.pass.nearestOwn[row]!;
    const nearest = refAt(ctx, other, ctx.pass.nearestOtherDistance[row]!);
    const nearestOwn = refAt(ctx, own, ctx.pass.nearestOwnDistance[row]!);
    found.push({ ...ref(ctx, row), probably: nearest.person, nearest, nearestOwn, margin: round(nearestOwn.distance - nearest.distance) });
  });
  return found.sort((a, b) => b.margin - a.margin);
}

/** Leave-one-out: what identify answers for each probe when every other photo of the folder is enrolled. */
export function identifyAnswers(ctx: ProblemContext): Array<{ row: number; answer: 'named' | 'wrong_person' | 'unknown' }> {
  const answers: Array<{ row: number; answer: 'named' | 'wrong_person' | 'unknown' }> = [];
  ctx.rows.forEach((_, row) => {
    if (!isProbe(ctx, row)) return;
    const own = ctx.pass.nearestOwnDistance[row]!;
    const other = ctx.pass.nearestOtherDistance[row]!;
    const best = Math.min(own, other);
    answers.push({ row, answer: best > ctx.threshold ? 'unknown' : own <= other ? 'named' : 'wrong_person' });
  });
  return answers;
}

export function misidentified(ctx: ProblemContext, answers: ReturnType<typeof identifyAnswers>): MisidentifiedPhoto[] {
  return answers
    .filter((a) => a.answer !== 'named')
    .map(({ row, answer }) => {
      const other = ctx.pass.nearestOther[row]!;
      const own = ctx.pass.nearestOwn[row]!;
      return {
        ...ref(ctx, row),
        answer: answer as 'wrong_person' | 'unknown',
        nearest: other >= 0 ? refAt(ctx, other, ctx.pass.nearestOtherDistance[row]!) : refAt(ctx, own, ctx.pass.nearestOwnDistance[row]!),
        nearestOwn: own >= 0 ? refAt(ctx, own, ctx.pass.nearestOwnDistance[row]!) : null,
      };
    })
    .sort((a, b) => a.nearest.distance - b.nearest.distance);
}

/** Identical files (same content hash, any photo that could be read) and near-identical embeddings. */
export function duplicates(ctx: ProblemContext): Duplicate[] {
  const found: Duplicate[] = [];
  const identical = new Set<string>();
  const byHash = new Map<string, EvaluatedPhoto[]>();
  for (const photo of ctx.photos) if (photo.contentHash) byHash.set(photo.contentHash, [...(byHash.get(photo.contentHash) ?? []), photo]);
  for (const group of byHash.values()) {
    const [first, ...rest] = group;
    if (!first) continue;
    for (const other of rest) {
      identical.add(pairKey(first.path, other.path));
      found.push({ kind: 'identical', a: { path: first.path, person: first.person }, b: { path: other.path, person: other.person }, distance: null, samePerson: first.person === other.person });
    }
  }
  for (const { a, b, distance } of ctx.pass.near) {
    const ra = ref(ctx, a);
    const rb = ref(ctx, b);
    if (identical.has(pairKey(ra.path, rb.path))) continue;
    found.push({ kind: 'near', a: ra, b: rb, distance: round(distance), samePerson: ra.person === rb.person });
  }
  return found;
}

const pairKey = (a: string, b: string): string => (a < b ? `${a}\n${b}` : `${b}\n${a}`);

export function spreadPeople(ctx: ProblemContext, answers: ReturnType<typeof identifyAnswers>): SpreadPerson[] {
  const perPerson = new Map<number, { photos: number; missed: number }>();
  for (const { row, answer } of answers) {
    const person = ctx.rows[row]!.person;
    const entry = perPerson.get(person) ?? { photos: 0, missed: 0 };
    entry.photos += 1;
    if (answer !== 'named') entry.missed += 1;
    perPerson.set(person, entry);
  }
  const spread: SpreadPerson[] = [];
  for (const [person, { photos, missed }] of perPerson) {
    if (missed / photos < SPREAD_MISS_SHARE) continue;
    spread.push({ person: ctx.people[person] ?? `#${person}`, photos, missed, medianDistance: round(median(ctx.pass.genuineByPerson.get(person) ?? [])) });
  }
  return spread.sort((a, b) => b.missed / b.photos - a.missed / a.photos || b.medianDistance - a.medianDistance);
}

/** Reading the shared LFW data for benchmarks: the pairs protocol and deterministic extra pairs. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { seededRandom } from '../test/fixtures.js';

export interface LfwPair {
  a: string;
  b: string;
  same: boolean;
  fold: number;
  /** 'official' from pairs.txt, 'extra' drawn from the subset to balance the classes. */
  source: 'official' | 'extra';
}

export function lfwFile(root: string, person: string, index: number): string {
  return join(root, person, `${person}_${String(index).padStart(4, '0')}.jpg`);
}

/**
 * The official pairs that fall inside the subset. pairs.txt holds 10 folds of 300 matched then
 * 300 mismatched lines; the fold of a pair is the block its line sits in.
 */
export async function officialPairsInSubset(pairsFile: string, root: string, present: Set<string>): Promise<LfwPair[]> {
  const lines = (await readFile(pairsFile, 'utf8')).split('\n').map((l) => l.trim());
  const [folds = 10, perClass = 300] = (lines[0] ?? '').split(/\s+/).map(Number);
  return lines.slice(1).flatMap((line, i): LfwPair[] => {
    const fold = Math.floor(i / (2 * perClass));
    if (line === '' || fold >= folds) return [];
    // "name i1 i2" is a matched pair, "name1 i1 name2 i2" a mismatched one.
    const parts = line.split(/\s+/);
    const same = parts.length === 3;
    const [n1 = '', i1 = '', n2 = '', i2 = ''] = same ? [parts[0], parts[1], parts[0], parts[2]] : parts;
    const a = lfwFile(root, n1, Number(i1));
    const b = lfwFile(root, n2, Number(i2));
    return present.has(a) && present.has(b) ? [{ a, b, same, fold, source: 'official' }] : [];
  });
}

/**
 * Mismatched pairs drawn deterministically (seed 2026) from the subset, not already used,
 * spread round-robin over the 10 folds, so that both classes have as many pairs.
 */
export function extraMismatchedPairs(byPerson: Map<string, string[]>, count: number, taken: readonly LfwPair[], seed = 2026): LfwPair[] {
  const random = seededRandom(seed);
  const people = [...byPerson.keys()].sort();
  const used = new Set(taken.map((p) => [p.a, p.b].sort().join('|')));
  const pick = <T>(list: readonly T[]): T | undefined => list[Math.floor(random() * list.length)];
  const extra: LfwPair[] = [];
  while (extra.length < count) {
    const p1 = pick(people) ?? '';
    const p2 = pick(people) ?? '';
    if (p1 === p2) continue;
    const a = pick(byPerson.get(p1) ?? []);
    const b = pick(byPerson.get(p2) ?? []);
    if (!a || !b) continue;
    const key = [a, b].sort().join('|');
    if (used.has(key)) continue;
    used.add(key);
    extra.push({ a, b, same: false, fold: extra.length % 10, source: 'extra' });
  }
  return extra;
}

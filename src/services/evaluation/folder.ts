import { readdir } from 'node:fs/promises';
import { FacedbError } from '../../errors/errors.js';
import { scanLfwLayout, type LabelledImagePath } from '../../image/scan.js';

/**
 * The labelled photos of a folder in LFW layout (`<folder>/<Person_Name>/<photo>`), refused with a clear message
 * when it cannot be evaluated: empty or not in that layout (invalid_input), fewer than two people or nobody with two
 * photos (insufficient_data: verification needs same-person and different-person pairs).
 */
export async function labelledPhotos(folder: string): Promise<LabelledImagePath[]> {
  const entries = await readdir(folder, { withFileTypes: true }).catch(() => null);
  if (entries !== null) {
    const visible = entries.filter((e) => !e.name.startsWith('.'));
    if (visible.length === 0) {
      throw new FacedbError('invalid_input', `${folder} is empty: expected ${folder}/<Person_Name>/<photo>`, { details: { path: folder, reason: 'empty' } });
    }
    if (!visible.some((e) => e.isDirectory() || e.isSymbolicLink())) {
      throw new FacedbError(
        'invalid_input',
        `${folder} holds files but no person folders: expected the LFW layout ${folder}/<Person_Name>/<photo> (one folder per person)`,
        { details: { path: folder, reason: 'not_lfw_layout' } },
      );
    }
  }
  let photos: LabelledImagePath[];
  try {
    photos = await scanLfwLayout(folder); // also: not a folder, unreadable
  } catch (error) {
    if (error instanceof FacedbError && error.code === 'invalid_input' && error.message.startsWith('no images found')) {
      throw new FacedbError('invalid_input', `${folder} has person folders but no photos in them: expected ${folder}/<Person_Name>/<photo>`, {
        details: { path: folder, reason: 'not_lfw_layout' },
      });
    }
    throw error;
  }
  const perPerson = countPerPerson(photos);
  if (perPerson.size < 2) {
    throw new FacedbError(
      'insufficient_data',
      `${folder} holds ${perPerson.size} person: evaluating needs at least two people (different-person pairs) and someone with two photos`,
      { details: { path: folder, reason: 'fewer_than_two_people', people: perPerson.size } },
    );
  }
  if (![...perPerson.values()].some((n) => n >= 2)) {
    throw new FacedbError(
      'insufficient_data',
      `every person in ${folder} has one photo only: evaluating needs someone with at least two photos (same-person pairs)`,
      { details: { path: folder, reason: 'one_photo_each', people: perPerson.size } },
    );
  }
  return photos;
}

export function countPerPerson(photos: ReadonlyArray<{ person: string }>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const p of photos) counts.set(p.person, (counts.get(p.person) ?? 0) + 1);
  return counts;
}

import { FacedbError } from '../errors/errors.js';
import { FACE_ATTRIBUTES, type FaceAttribute } from './types.js';

/** What every surface says about a bad attribute list: the accepted words. */
export const ATTRIBUTES_USAGE = `${FACE_ATTRIBUTES.join(', ')} (comma-separated), or none`;

/**
 * The attributes a caller asked for, checked (invalid_input names the first unknown one) and in FACE_ATTRIBUTES'
 * order without repeats. The library's callers may pass anything (JavaScript), so the list is checked here too.
 */
export function checkAttributes(asked: readonly unknown[]): FaceAttribute[] {
  for (const name of asked) {
    if (!(FACE_ATTRIBUTES as readonly unknown[]).includes(name)) {
      throw new FacedbError('invalid_input', `unknown attribute ${JSON.stringify(name)}: give ${ATTRIBUTES_USAGE}`);
    }
  }
  return FACE_ATTRIBUTES.filter((name) => asked.includes(name));
}

/** A list as the CLI and the HTTP API take it: `emotion,age`, or `none` for no attribute. Blank is refused. */
export function parseAttributes(text: string): FaceAttribute[] {
  const words = text
    .split(',')
    .map((word) => word.trim().toLowerCase())
    .filter((word) => word !== '');
  if (words.length === 0) throw new FacedbError('invalid_input', `no attribute given: give ${ATTRIBUTES_USAGE}`);
  if (words.includes('none')) {
    if (words.length > 1) throw new FacedbError('invalid_input', `"none" cannot be combined with other attributes: give ${ATTRIBUTES_USAGE}`);
    return [];
  }
  return checkAttributes(words);
}

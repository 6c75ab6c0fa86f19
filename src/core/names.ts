import { FacedbError } from '../errors/errors.js';

/*
 * The one definition of what a person's name may be, used by the stores (every way a person is created goes
 * through them), the CLI, the HTTP API and the library alike.
 *
 * - Unicode NFC, runs of spaces (any space separator, e.g. U+00A0 or U+3000) as one ordinary space, no
 *   leading or trailing space;
 * - 1 to MAX_PERSON_NAME_LENGTH code points;
 * - no control characters (Cc: NUL, ESC, tab, newline…), format characters (Cf: zero-width space and joiners,
 *   bidi overrides and isolates, soft hyphen, BOM), line/paragraph separators, private-use characters,
 *   unpaired surrogates or noncharacters: they are invisible, reorder text on screen, or render as anything.
 *
 * Names that only look alike (`Bono`, `BONO`, `Bоno` with a Cyrillic о) share a `nameSkeleton`; the stores
 * refuse to create a person whose skeleton matches an existing person's.
 */

/** Longest person name, in code points (not UTF-16 units), after normalisation. */
export const MAX_PERSON_NAME_LENGTH = 100;

/** Characters refused anywhere in a name; see the comment above. */
const REFUSED = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Zl}\p{Zp}]/u;
const SPACES = /\p{Zs}+/gu;

/** Why `raw` is not an acceptable name, or null when it is (after `normalizePersonName`). */
export function personNameProblem(raw: string): string | null {
  const nfc = wellFormed(raw) ? raw.normalize('NFC') : raw;
  let position = 0;
  for (const char of nfc) {
    const codePoint = char.codePointAt(0)!;
    const kind = refusedKind(char, codePoint);
    if (kind !== null) return `person name contains ${codePointLabel(codePoint)} (${kind}) at position ${position + 1}`;
    position++;
  }
  const name = canonicalName(nfc);
  if (name.length === 0) return 'person name must not be empty';
  const length = [...name].length;
  if (length > MAX_PERSON_NAME_LENGTH) {
    return `person name is ${length} characters long; at most ${MAX_PERSON_NAME_LENGTH} are allowed`;
  }
  return null;
}

/**
 * The stored form of a name: NFC, single ordinary spaces, trimmed. Throws invalid_input, naming the first
 * offending character by code point (never echoing it), when the name breaks the rules above.
 */
export function normalizePersonName(raw: string): string {
  const problem = typeof raw === 'string' ? personNameProblem(raw) : 'person name must be text';
  if (problem !== null) throw new FacedbError('invalid_input', problem, { details: { rule: 'person_name' } });
  return canonicalName(raw);
}

/** NFC, single ordinary spaces, trimmed; no checks (also for names stored before the rules). */
export function canonicalName(text: string): string {
  return text.normalize('NFC').replace(SPACES, ' ').trim();
}

/**
 * What a name looks like, for finding names that could be mistaken for each other: compatibility forms folded
 * (fullwidth and mathematical letters, ligatures), Cyrillic and Greek letters that look Latin mapped to the Latin
 * letter (HOMOGLYPHS), case folded, and 0 / 1 read as o / l. Accents are kept: `José` and `Jose` differ.
 * Only for comparison, never shown or stored. A small, documented subset of Unicode TR39's confusables.
 */
export function nameSkeleton(name: string): string {
  let mapped = '';
  for (const char of name.normalize('NFKD')) mapped += HOMOGLYPHS[char] ?? char;
  let folded = '';
  for (const char of mapped.toLowerCase()) folded += AFTER_FOLDING[char] ?? char;
  return folded.normalize('NFC');
}

/** Cyrillic and Greek letters drawn like a Latin letter in common fonts, case kept (folded afterwards). */
const HOMOGLYPHS: Readonly<Record<string, string>> = {
  // Cyrillic capitals
  А: 'A', В: 'B', Е: 'E', К: 'K', М: 'M', Н: 'H', О: 'O', Р: 'P', С: 'C', Т: 'T', У: 'Y', Х: 'X',
  Ѕ: 'S', І: 'I', Ј: 'J', Ԛ: 'Q', Ԝ: 'W', Ү: 'Y', Ӏ: 'I',
  // Cyrillic small letters
  а: 'a', е: 'e', о: 'o', р: 'p', с: 'c', у: 'y', х: 'x', ѕ: 's', і: 'i', ј: 'j', ԁ: 'd', һ: 'h',
  ԛ: 'q', ԝ: 'w', ӏ: 'l', ү: 'y',
  // Greek capitals
  Α: 'A', Β: 'B', Ε: 'E', Ζ: 'Z', Η: 'H', Ι: 'I', Κ: 'K', Μ: 'M', Ν: 'N', Ο: 'O', Ρ: 'P', Τ: 'T',
  Υ: 'Y', Χ: 'X',
  // Greek small letters
  α: 'a', ι: 'i', κ: 'k', ν: 'v', ο: 'o', ρ: 'p', υ: 'u', χ: 'x', γ: 'y',
  // Latin dotless i
  ı: 'i',
};

/** Look-alikes that only appear once case is folded (a capital I is then an i, not an l). */
const AFTER_FOLDING: Readonly<Record<string, string>> = { '0': 'o', '1': 'l' };

/**
 * `text` with every character a name may not contain (controls, format characters, separators, private use,
 * lone surrogates, noncharacters) written as `\uXXXX` (per UTF-16 unit), except those in `keep`. For terminals,
 * logs and messages: stored data (names from before these rules, file paths) can hold such characters, and
 * printed raw they could rewrite the screen. The same escape is valid inside a JSON string, so it is also safe
 * on JSON text.
 */
export function escapeInvisible(text: string, keep = ''): string {
  let out = '';
  for (const char of text) {
    if (keep.includes(char) || refusedKind(char, char.codePointAt(0)!) === null) {
      out += char;
      continue;
    }
    for (let i = 0; i < char.length; i++) out += `\\u${char.charCodeAt(i).toString(16).toUpperCase().padStart(4, '0')}`;
  }
  return out;
}

function wellFormed(text: string): boolean {
  return !/\p{Cs}/u.test(text);
}

function refusedKind(char: string, codePoint: number): string | null {
  if (isNoncharacter(codePoint)) return 'a noncharacter';
  const match = REFUSED.exec(char);
  if (match === null) return null;
  if (/\p{Cc}/u.test(char)) return 'a control character';
  if (/\p{Cf}/u.test(char)) return 'an invisible format character';
  if (/\p{Cs}/u.test(char)) return 'an unpaired surrogate';
  if (/\p{Co}/u.test(char)) return 'a private-use character';
  return 'a line or paragraph separator';
}

/** U+FDD0..U+FDEF and the last two code points of every plane: never characters. */
function isNoncharacter(codePoint: number): boolean {
  return (codePoint >= 0xfdd0 && codePoint <= 0xfdef) || (codePoint & 0xfffe) === 0xfffe;
}

function codePointLabel(codePoint: number): string {
  return `U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}`;
}

import { FacedbError } from '../errors/errors.js';

/*
 * The one definition of what a person's name may be, used by the stores (every way a person is created goes
 * through them), the CLI, the HTTP API and the library alike.
 *
 * - Unicode NFC, runs of spaces (any space separator, e.g. U+00A0 or U+3000) as one ordinary space, no
 *   leading or trailing space;
 * - blank-looking letters (U+2800 BRAILLE PATTERN BLANK) count as spaces;
 * - 1 to MAX_PERSON_NAME_LENGTH code points;
 * - no control characters (Cc: NUL, ESC, tab, newline…), format characters (Cf: zero-width space and joiners,
 *   bidi overrides and isolates, soft hyphen, BOM), other default-ignorable code points (Unicode's
 *   Default_Ignorable_Code_Point: variation selectors, the combining grapheme joiner, Hangul fillers, tags),
 *   line/paragraph separators, private-use characters, unpaired surrogates or noncharacters: they are
 *   invisible, reorder text on screen, or render as anything;
 * - at most MAX_COMBINING_MARKS combining marks on one character (a pile of marks draws over its neighbours).
 *
 * Names that only look alike (`Bono`, `BONO`, `Bоno` with a Cyrillic о, `Ᏼono` with a Cherokee letter) share a
 * `nameSkeleton`; the stores refuse to create a person whose skeleton matches an existing person's.
 */

/** Longest person name, in code points (not UTF-16 units), after normalisation. */
export const MAX_PERSON_NAME_LENGTH = 100;

/**
 * Most combining marks one character may carry, after NFC. Real names need few (Vietnamese two, pointed
 * Hebrew or Tibetan stacks three or four); 99 of them make a smear over the line.
 */
export const MAX_COMBINING_MARKS = 4;

/** Characters refused anywhere in a name; see the comment above. */
const REFUSED = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}]/u;
/** Spaces, and letters drawn as nothing but blank space. */
const SPACES = /[\p{Zs}\u2800]+/gu;
const COMBINING_MARK = /\p{M}/u;

/** Why `raw` is not an acceptable name, or null when it is (after `normalizePersonName`). */
export function personNameProblem(raw: string): string | null {
  const nfc = wellFormed(raw) ? raw.normalize('NFC') : raw;
  let position = 0;
  let marks = 0;
  for (const char of nfc) {
    const codePoint = char.codePointAt(0)!;
    const kind = refusedKind(char, codePoint);
    if (kind !== null) return `person name contains ${codePointLabel(codePoint)} (${kind}) at position ${position + 1}`;
    marks = COMBINING_MARK.test(char) ? marks + 1 : 0;
    if (marks > MAX_COMBINING_MARKS) {
      return `person name has more than ${MAX_COMBINING_MARKS} combining marks on the character at position ${position + 1 - marks}`;
    }
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
 * What a name looks like, for finding names that could be mistaken for each other, in the manner of a UTS #39
 * skeleton: default-ignorable code points dropped (names stored before they were refused), compatibility forms
 * folded (fullwidth and mathematical letters, ligatures), letters of other scripts drawn like a Latin letter
 * mapped to it (HOMOGLYPHS: Cyrillic, Greek, Armenian, Cherokee, Coptic, Lisu, Latin small capitals and IPA),
 * case folded, and 0 / 1 read as o / l. Accents are kept: `José` and `Jose` differ. Only for comparison, never
 * shown; stored as the people's look-alike key (src/store/lookalikes.ts), so a change here needs a migration
 * that computes the keys again. A documented subset of UTS #39's confusables, the part that imitates Latin.
 */
export function nameSkeleton(name: string): string {
  let mapped = '';
  for (const char of name.normalize('NFKD').replace(IGNORABLE, '')) mapped += HOMOGLYPHS[char] ?? char;
  let folded = '';
  for (const char of mapped.toLowerCase()) folded += AFTER_FOLDING[char] ?? char;
  return folded.normalize('NFC');
}

const IGNORABLE = /\p{Default_Ignorable_Code_Point}/gu;

/**
 * Letters drawn like a Latin letter in common fonts, by script, each string pairing a look-alike with its
 * Latin letter (case kept; folded afterwards).
 */
const LOOKALIKE_PAIRS: readonly string[] = [
  // Cyrillic
  'АA ВB ЕE КK МM НH ОO РP СC ТT УY ХX ЅS ІI ЈJ ԚQ ԜW ҮY ӀI ԌG ѴV',
  'аa еe оo рp сc уy хx ѕs іi јj ԁd һh ԛq ԝw ӏl үy ѵv ѡw',
  // Greek
  'ΑA ΒB ΕE ΖZ ΗH ΙI ΚK ΜM ΝN ΟO ΡP ΤT ΥY ΧX ϹC ϺM',
  'αa ιi κk νv οo ρp υu χx γy ϲc ϳj',
  // Armenian
  'ՕO ՍU ՏS ԼL',
  'օo սu ցg հh ոn ռn զq',
  // Coptic
  'ⲀA ⲂB ⲈE ⲎH ⲒI ⲔK ⲘM ⲚN ⲞO ⲢP ⲤC ⲦT ⲨY ⲬX ⲟo ⲣp ⲥc',
  // Lisu
  'ꓮA ꓐB ꓚC ꓓD ꓰE ꓝF ꓖG ꓧH ꓲI ꓙJ ꓗK ꓡL ꓟM ꓠN ꓳO ꓑP ꓣR ꓢS ꓔT ꓴU ꓦV ꓪW ꓫX ꓬY ꓜZ',
  // Latin small capitals and IPA letters
  'ᴀa ʙb ᴄc ᴅd ᴇe ɢg ʜh ɪi ᴊj ᴋk ʟl ᴍm ɴn ᴏo ᴘp ʀr ꜱs ᴛt ᴜu ᴠv ᴡw ʏy ᴢz ɑa ɡg ɩi ıi',
];

/** Cherokee capitals drawn like Latin ones; Cherokee's small letters (U+AB70…) are drawn like their capitals. */
const CHEROKEE_PAIRS = 'ᎪA ᏴB ᏟC ᎠD ᎬE ᏀG ᎻH ᎥI ᎫJ ᏦK ᏞL ᎷM ᏢP ᏚS ᎢT ᏙV ᎳW ᏃZ ᎡR';

const HOMOGLYPHS: Readonly<Record<string, string>> = (() => {
  const table: Record<string, string> = {};
  const pairs = (line: string): Array<[string, string]> => line.split(' ').map((pair) => [...pair] as [string, string]);
  for (const [lookalike, latin] of LOOKALIKE_PAIRS.flatMap(pairs)) table[lookalike] = latin;
  for (const [capital, latin] of pairs(CHEROKEE_PAIRS)) {
    table[capital] = latin;
    table[capital.toLowerCase()] = latin;
  }
  return table;
})();

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
  if (/[\p{Zl}\p{Zp}]/u.test(char)) return 'a line or paragraph separator';
  return 'an invisible character';
}

/** U+FDD0..U+FDEF and the last two code points of every plane: never characters. */
function isNoncharacter(codePoint: number): boolean {
  return (codePoint >= 0xfdd0 && codePoint <= 0xfdef) || (codePoint & 0xfffe) === 0xfffe;
}

function codePointLabel(codePoint: number): string {
  return `U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}`;
}

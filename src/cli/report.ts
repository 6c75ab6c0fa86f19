import { escapeInvisible } from '../core/names.js';
import { EMOTIONS } from '../core/types.js';
import type { SkippedEntries } from '../image/scan.js';
import type { Person } from '../store/store.js';
import type {
  AnalyzeResult,
  ReembedOutcome,
  ReembedSummary,
  EnrollOutcome,
  EnrollSummary,
  FaceAttributes,
  IdentifiedFace,
  IdentifyResult,
  VerifyResult,
} from '../services/results.js';

/**
 * Human-readable reports; pure functions from results to text, shared by local and client commands. Every
 * piece of data in them (names, paths, messages) goes through `shown`, so nothing from a gallery or a file
 * name can put control characters, bidi overrides or newlines on the terminal.
 */

/** Data as printed: invisible and control characters as `\uXXXX`. */
export function shown(text: string): string {
  return escapeInvisible(text);
}

const BRANCH = '├─';
const LAST = '└─';
const PIPE = '│ ';

/** The box, then the attributes the face carries (those asked for). */
function faceLines(face: FaceAttributes): string[] {
  const { box, emotion } = face;
  const lines = [`box ${box.x},${box.y} ${box.width}×${box.height}  detection ${face.detectionScore.toFixed(2)}`];
  if (emotion) {
    const all = EMOTIONS.map((e) => `${e} ${emotion.scores[e].toFixed(1)}`).join(' · ');
    lines.push(`emotion: ${emotion.dominant} ${emotion.scores[emotion.dominant].toFixed(1)}%  (${all})`);
  }
  const age = face.age === undefined ? undefined : `age ~${Math.round(face.age)}`;
  const gender = face.gender === undefined ? undefined : `${face.gender} (${Math.round((face.genderProbability ?? 0) * 100)}%)`;
  if (age !== undefined || gender !== undefined) lines.push([age, gender].filter((part) => part !== undefined).join(', '));
  return lines;
}

function tree(title: string, children: string[][]): string {
  const lines = [title];
  children.forEach((child, i) => {
    const last = i === children.length - 1;
    child.forEach((line, j) => {
      const prefix = j === 0 ? (last ? LAST : BRANCH) : last ? '  ' : PIPE;
      lines.push(`${prefix} ${line}`);
    });
  });
  return lines.join('\n');
}

/** "97 %" for a calibrated confidence, never "100 %" or "0 %" (the fit cannot be that sure). */
export function formatConfidence(confidence: number): string {
  if (confidence >= 0.995) return '> 99 %';
  if (confidence < 0.005) return '< 1 %';
  return `${Math.round(confidence * 100)} %`;
}

/** ", 97 % likely the same person" — empty for a model without calibration. */
function likely(confidence: number | null): string {
  return confidence === null ? '' : `, ${formatConfidence(confidence)} likely the same person`;
}

/**
 * ", 97 % likely it is Bono": the identify confidence, which accounts for the gallery size and is below 50 % for
 * every face beyond the threshold (core/confidence.ts, decisionConfidence). A match below 50 % happens only when more
 * people are enrolled than the threshold is strict enough for, and is said so. Empty without calibration.
 */
function likelyIdentity(person: string, confidence: number | null, matched: boolean): string {
  if (confidence === null) return '';
  const figure = `${formatConfidence(confidence)} likely it is ${person}`;
  if (matched && confidence < 0.5) return `, only ${figure}: the threshold is loose for a gallery this size (use a lower --far)`;
  return `, ${figure}`;
}

function whoLine(face: IdentifiedFace, threshold: number | string): string {
  const nearest = face.candidates[0];
  if (face.match) {
    const { person, distance, confidence } = face.match;
    return `who: ${shown(person)}  (distance ${distance.toFixed(3)} ≤ threshold ${threshold}${likelyIdentity(shown(person), confidence, true)})`;
  }
  if (!nearest) return 'who: unknown  (the gallery is empty)';
  return `who: unknown  (nearest ${shown(nearest.person)} at ${nearest.distance.toFixed(3)} > threshold ${threshold}${likelyIdentity(shown(nearest.person), nearest.confidence, false)})`;
}

export function formatIdentify(file: string, result: IdentifyResult): string {
  const { image, faces } = result;
  const title = `${shown(file)}  (${image.width}×${image.height} ${image.format}, ${plural(faces.length, 'face')})`;
  if (faces.length === 0) return `${title}\n${LAST} no face found`;
  return tree(
    title,
    faces.map((face, i) => {
      const [boxLine = '', ...rest] = faceLines(face);
      const candidates = face.candidates
        .map((c) => `${shown(c.person)} ${c.distance.toFixed(3)}${c.confidence === null ? '' : ` (${formatConfidence(c.confidence)})`}`)
        .join(', ');
      return [
        `face ${i + 1}: ${face.match ? shown(face.match.person) : 'unknown'}`,
        `  ${whoLine(face, thresholdLabel(result))}`,
        `  candidates: ${candidates || '(none)'}`,
        `  ${boxLine}`,
        ...rest.map((line) => `  ${line}`),
      ];
    }),
  );
}

export function formatAnalyze(file: string, result: AnalyzeResult): string {
  const { image, faces } = result;
  const title = `${shown(file)}  (${image.width}×${image.height} ${image.format}, ${plural(faces.length, 'face')})`;
  if (faces.length === 0) return `${title}\n${LAST} no face found`;
  return tree(
    title,
    faces.map((face, i) => [`face ${i + 1}`, ...faceLines(face).map((line) => `  ${line}`)]),
  );
}

/**
 * Why a file failed, as printed beside or under its path: without the path again when the message starts with it
 * (errors about a file name it, for callers that show only the message).
 */
export function detailFor(path: string, message: string): string {
  if (path === '' || !message.startsWith(path)) return message;
  const rest = message.slice(path.length).replace(/^:/, '').trimStart();
  return rest === '' ? message : rest;
}

/** A photo that could not be processed, as identify, analyze and their client twins print it. */
export function formatFileError(file: string, failure: { code: string; message: string }): string {
  return `${shown(file)}\n└─ error [${failure.code}]: ${shown(detailFor(file, failure.message))}\n`;
}

/** The head of every batch summary: "83/83 files in 1.4s (60.3 files/s)", and how many an interruption left. */
export function formatRunHead(processed: number, total: number, elapsedMs: number): string {
  const seconds = elapsedMs / 1000;
  const rate = seconds > 0 ? (processed / seconds).toFixed(1) : '-';
  const interrupted = processed < total ? ` (interrupted: ${total - processed} not processed)` : '';
  return `${processed}/${total} files in ${seconds.toFixed(1)}s (${rate} files/s)${interrupted}`;
}

/** What identify, analyze and represent found in a run over several photos. */
export interface PhotoSummary {
  total: number;
  processed: number;
  elapsedMs: number;
  /** Photos read and analysed that had at least one face, and the faces in them. */
  withFaces: number;
  faces: number;
  /** Of those faces, how many identify named (absent for analyze and represent). */
  known?: number;
  /** Photos read and analysed that had no face. */
  noFace: number;
  /** Photos that failed, by what they failed with ("unreadable", "not found", …). */
  failed: ReadonlyMap<string, number>;
}

export function formatPhotoSummary(summary: PhotoSummary): string {
  const { faces, known } = summary;
  const faceDetail = known === undefined ? plural(faces, 'face') : `${plural(faces, 'face')}: ${known} known, ${faces - known} unknown`;
  const parts = [
    ...(summary.withFaces > 0 ? [`${summary.withFaces} with faces (${faceDetail})`] : []),
    ...(summary.noFace > 0 ? [`${summary.noFace} no face`] : []),
    ...[...summary.failed].map(([why, count]) => `${count} ${why}`),
  ];
  return `${formatRunHead(summary.processed, summary.total, summary.elapsedMs)}: ${parts.join(', ') || 'nothing to do'}`;
}

/** At most a few paths of a long list, then how many more. */
function somePaths(paths: readonly string[], shownAtMost = 5): string {
  const listed = paths.slice(0, shownAtMost).map(shown).join(', ');
  return paths.length > shownAtMost ? `${listed} and ${paths.length - shownAtMost} more` : listed;
}

/**
 * One line per kind of entry a folder listing left out (none when it left nothing out). `layout` says what the
 * command reads, for entries outside it.
 */
export function formatSkipped(skipped: SkippedEntries, layout: string): string[] {
  const lines: string[] = [];
  const { notImages, outsideLayout } = skipped;
  if (notImages.length > 0) {
    lines.push(`skipped ${plural(notImages.length, 'file')} that ${notImages.length === 1 ? 'is' : 'are'} not an image: ${somePaths(notImages)}`);
  }
  if (outsideLayout.length > 0) {
    lines.push(`skipped ${plural(outsideLayout.length, 'entry', 'entries')} outside the layout (${layout}): ${somePaths(outsideLayout)}`);
  }
  return lines;
}

export function formatVerify(a: string, b: string, result: VerifyResult): string {
  const verdict = result.verified ? 'same person' : 'different people';
  const relation = result.verified ? '≤' : '>';
  return `${shown(a)} vs ${shown(b)}: ${verdict}  (distance ${result.distance.toFixed(3)} ${relation} threshold ${thresholdLabel(result)}${likely(result.confidence)})`;
}

const OUTCOME_WORDS: Record<EnrollOutcome['status'], string> = {
  enrolled: 'enrolled',
  enrolled_one_of_several: 'several faces: subject taken',
  already_enrolled: 'already enrolled',
  no_face: 'no face',
  unreadable: 'unreadable',
  invalid_name: 'invalid name',
  not_found: 'person removed meanwhile',
  failed: 'failed',
};

export function formatOutcome(outcome: EnrollOutcome): string {
  const detail = outcome.message ? `: ${shown(detailFor(outcome.path, outcome.message))}` : '';
  const faces = outcome.status === 'enrolled_one_of_several' ? ` (${outcome.facesFound} faces)` : '';
  return `${OUTCOME_WORDS[outcome.status].padEnd(29)} ${shown(outcome.person)}  ${shown(outcome.path)}${faces}${detail}`;
}

export function formatEnrollSummary(summary: EnrollSummary): string {
  const parts = (Object.keys(OUTCOME_WORDS) as Array<EnrollOutcome['status']>)
    .filter((status) => summary.counts[status] > 0)
    .map((status) => `${summary.counts[status]} ${OUTCOME_WORDS[status]}`);
  return `${formatRunHead(summary.outcomes.length, summary.total, summary.elapsedMs)}: ${parts.join(', ') || 'nothing to do'}`;
}

const REEMBED_WORDS: Record<ReembedOutcome['status'], string> = {
  moved: 'moved',
  already_moved: 'already moved',
  missing_file: 'photo missing',
  changed_content: 'photo changed',
  no_photo: 'no photo kept',
  unreadable: 'unreadable',
  no_face: 'no face now',
  several_faces: 'several faces, none enrolled',
  other_face: 'another face',
  failed: 'failed',
};

export function formatReembedOutcome(outcome: ReembedOutcome): string {
  const detail = outcome.message ? `: ${detailFor(outcome.source, outcome.message)}` : '';
  return `${REEMBED_WORDS[outcome.status].padEnd(29)} ${outcome.person}  ${outcome.source} (face #${outcome.faceId})${detail}`;
}

export function formatReembedSummary(summary: ReembedSummary, to: string): string {
  const processed = summary.outcomes.length;
  const parts = (Object.keys(REEMBED_WORDS) as Array<ReembedOutcome['status']>)
    .filter((status) => summary.counts[status] > 0)
    .map((status) => `${summary.counts[status]} ${REEMBED_WORDS[status]}`);
  const from = summary.from ? `${summary.from.id}@${summary.from.version}` : 'an empty gallery';
  const inNew = summary.counts.moved + summary.counts.already_moved;
  const left = summary.total - inNew;
  const state =
    left === 0
      ? `${to} is complete: every face is in it`
      : `${plural(left, 'face')} not moved${processed < summary.total ? ` (interrupted: ${summary.total - processed} not tried; run again to resume)` : ' (see above)'}`;
  const constraints =
    summary.constraintsCarried + summary.constraintsLeft === 0
      ? ''
      : ` Corrections kept: ${plural(summary.constraintsCarried, 'constraint')} carried` +
        (summary.constraintsLeft > 0 ? `, ${summary.constraintsLeft} not (they name faces this run did not move: failed, or moved by an earlier run)` : '') +
        '.';
  return `${processed}/${summary.total} faces from ${from} to ${summary.to.id}@${summary.to.version} in ${(summary.elapsedMs / 1000).toFixed(1)}s: ${parts.join(', ') || 'nothing to do'}. ${state}${constraints}`;
}

/** What `remove` (local or through `facedb client`) prints. */
export function formatRemoved(removed: { removed: string; facesRemoved: number }): string {
  return `removed ${shown(removed.removed)} (${plural(removed.facesRemoved, 'face')})`;
}

export function formatPeople(people: Person[], total: number): string {
  if (total === 0) return 'the gallery is empty';
  const names = people.map((p) => shown(p.name));
  const width = Math.max(6, ...names.map((name) => name.length));
  const rows = people.map((p, i) => `${String(p.id).padStart(6)}  ${names[i]!.padEnd(width)}  ${p.faceCount}`);
  const faces = people.reduce((sum, p) => sum + p.faceCount, 0);
  const showing = people.length < total ? ` (showing ${people.length})` : '';
  return [
    `${'id'.padStart(6)}  ${'person'.padEnd(width)}  faces`,
    ...rows,
    `${plural(total, 'person', 'people')}${showing}, ${plural(faces, 'face')} listed`,
  ].join('\n');
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** The threshold as printed: marked when it comes from the gallery's own calibration (facedb evaluate --apply). */
function thresholdLabel(result: { threshold: number; thresholdSource?: string }): string {
  return result.thresholdSource === 'gallery' ? `${result.threshold} (this gallery's calibration)` : String(result.threshold);
}

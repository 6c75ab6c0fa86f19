import { subjectFace } from '../core/subject-face.js';
import { escapeInvisible, normalizePersonName, personNameProblem } from '../core/names.js';
import type { FaceAnalysis, FaceEngine } from '../engine/engine.js';
import { toFacedbError } from '../errors/errors.js';
import { sha256Hex } from '../image/hash.js';
import type { ImageSource, LoadedImage } from '../image/image.js';
import type { Face } from '../store/store.js';
import { lanesFor, runInLanes } from './batch.js';
import type { ServiceContext } from './context.js';
import { EnrollmentPeople } from './enrollment-people.js';
import { embeddingOf, NEEDS } from './face-results.js';
import { ENROLL_STATUSES, STOPS_ENROLLMENT, type EnrollOutcome, type EnrollStatus, type EnrollSummary } from './results.js';

export interface EnrollItem {
  person: string;
  path: string;
}

export interface EnrollOptions {
  /** Called once per file as soon as its outcome is known (completion order). */
  onOutcome?: (outcome: EnrollOutcome, done: number, total: number) => void;
  /** Stops taking new files; files already in flight finish and are committed. */
  signal?: AbortSignal;
}

function normalizedOrProblem(name: string): string | { problem: string } {
  const problem = personNameProblem(name);
  return problem === null ? normalizePersonName(name) : { problem };
}

function removedMessage(name: string): string {
  return `${escapeInvisible(name)} was removed from the gallery during this enrollment; nothing was added`;
}

function blockedOutcome(
  blocked: NonNullable<ReturnType<EnrollmentPeople['blocked']>>,
): Pick<EnrollOutcome, 'status' | 'message' | 'facesFound'> {
  if ('removed' in blocked) return { status: 'not_found', facesFound: 0, message: 'the person was removed from the gallery during this enrollment' };
  return { status: 'invalid_name', facesFound: 0, message: blocked.refused.message };
}

/** Enrolling named people: many files (CLI, library) or one photo (HTTP API, queue worker). */
export class EnrollmentService {
  readonly #context: ServiceContext;

  constructor(context: ServiceContext) {
    this.#context = context;
  }

  /**
   * Enrolls many files, never stopping on a bad one: every file gets exactly one outcome (a name that breaks the
   * name rules is `invalid_name`; a person erased while the run enrolls them is `not_found` for their remaining
   * photos, and is never re-created: see EnrollmentPeople). Each file is committed on its own, so an interrupted
   * run keeps everything finished so far and a re-run skips it by content hash. A storage fault (disk full,
   * read-only gallery) or a gallery pinned to another model stops the run with that error.
   */
  async enroll(items: readonly EnrollItem[], options: EnrollOptions = {}): Promise<EnrollSummary> {
    const started = performance.now();
    const { store, search, config } = this.#context;
    const engine = await this.#context.engine();
    await store.ensureModel(engine.model);
    // Enrolling needs no search: the index is only kept current when something has loaded it already.
    await search.refresh();
    const enrolled = await store.enrolledContent();
    // Names as folders give them ("Brad_Pitt" → "Brad Pitt"), held to the same rules as any other name.
    const names = items.map((item) => normalizedOrProblem(item.person));
    const people = new EnrollmentPeople(store);
    await people.bindExisting(names.flatMap((name) => (typeof name === 'string' ? [name] : [])));

    // A failure that stops the run (STOPS_ENROLLMENT) also stops the other lanes taking new photos.
    const outcomes = await runInLanes(
      items,
      async (item, position): Promise<EnrollOutcome> => {
        const name = names[position]!;
        return typeof name === 'string'
          ? this.#enrollOne({ ...item, person: name }, people, engine, enrolled)
          : { path: item.path, person: item.person, status: 'invalid_name', facesFound: 0, message: name.problem };
      },
      { lanes: lanesFor(config.workers), signal: options.signal, onResult: options.onOutcome },
    ).catch((error: unknown) => {
      throw toFacedbError(error);
    });

    const counts = Object.fromEntries(ENROLL_STATUSES.map((s) => [s, 0])) as Record<EnrollStatus, number>;
    for (const outcome of outcomes) counts[outcome.status] += 1;
    return { total: items.length, counts, outcomes, elapsedMs: performance.now() - started };
  }

  /**
   * Enrolls one photo (an upload or a file) for a person, taking its subject's face (core/subject-face.ts). Given an
   * id, the photo goes to that person or to nobody: `not_found` when they do not exist (any more). Given a name, the
   * person is found or created (invalid_input for a name that breaks the name rules). A photo the person already has
   * is `already_enrolled` without being analysed. Throws on other failures.
   */
  async enrollImage(person: string | number, source: ImageSource): Promise<EnrollOutcome> {
    const { store, search } = this.#context;
    const engine = await this.#context.engine();
    await store.ensureModel(engine.model);
    // Adding a face needs no search: a queue worker or a server that has not searched yet skips loading the whole
    // gallery into memory; an index built later reads the new face from the store.
    await search.refresh();
    const people = new EnrollmentPeople(store);
    let name: string;
    if (typeof person === 'number') {
      const found = await store.getPerson(person);
      if (found === null) return { path: source.path ?? '(upload)', person: `#${person}`, status: 'not_found', facesFound: 0, message: `no person with id ${person}` };
      name = found.name;
      people.bind(name, found.id);
    } else {
      name = normalizePersonName(person);
      await people.bindExisting([name]);
    }
    const loaded = await this.#context.load(source);
    // Loading every hash for one upload would cost more: the store is asked about this photo only.
    return this.#addLargestFace(name, loaded, people, engine, new Map());
  }

  /** The faces enrollment finds in a photo and the one it takes (evaluation embeds photos exactly as enroll does). */
  async enrollmentFaces(path: string): Promise<{ faces: FaceAnalysis[]; subject: FaceAnalysis | undefined; bytes: Uint8Array; width: number; height: number }> {
    const loaded = await this.#context.load({ path });
    const { width, height } = loaded.image;
    return { ...(await this.#analyzeForEnrollment(loaded, await this.#context.engine())), bytes: loaded.bytes, width, height };
  }

  async #analyzeForEnrollment(loaded: LoadedImage, engine: FaceEngine): Promise<{ faces: FaceAnalysis[]; subject: FaceAnalysis | undefined }> {
    const faces = await engine.analyze(loaded.image, this.#context.analyzeOptions({}, NEEDS.enroll));
    return { faces, subject: subjectFace(faces, loaded.image.width, loaded.image.height) };
  }

  async #enrollOne(
    item: EnrollItem,
    people: EnrollmentPeople,
    engine: FaceEngine,
    enrolled: Map<string, Set<string>>,
  ): Promise<EnrollOutcome> {
    const base = { path: item.path, person: item.person };
    const blocked = people.blocked(item.person);
    if (blocked) return { ...base, ...blockedOutcome(blocked) };
    let loaded: LoadedImage;
    try {
      loaded = await this.#context.load({ path: item.path });
    } catch (error) {
      const failure = toFacedbError(error);
      return { ...base, status: 'unreadable', facesFound: 0, message: failure.message };
    }
    try {
      return await this.#addLargestFace(item.person, loaded, people, engine, enrolled);
    } catch (error) {
      const failure = toFacedbError(error);
      if (STOPS_ENROLLMENT.has(failure.code)) throw failure;
      return { ...base, status: 'failed', facesFound: 0, message: failure.message };
    }
  }

  async #addLargestFace(
    personName: string,
    loaded: LoadedImage,
    people: EnrollmentPeople,
    engine: FaceEngine,
    enrolled: Map<string, Set<string>>,
  ): Promise<EnrollOutcome> {
    const path = loaded.path ?? '(upload)';
    const contentHash = sha256Hex(loaded.bytes);
    const boundId = people.boundId(personName);
    // Checked before the analysis: a duplicate (an upload sent twice, a re-run) costs no inference.
    const bound = await boundId?.catch(() => undefined);
    const known = enrolled.get(contentHash)?.has(personName) || (bound !== undefined && (await this.#context.store.hasPhoto(bound, contentHash)));
    if (known) return { path, person: personName, status: 'already_enrolled', facesFound: 0 };
    const { faces, subject } = await this.#analyzeForEnrollment(loaded, engine);
    if (!subject) return { path, person: personName, status: 'no_face', facesFound: 0 };
    const embedding = embeddingOf(subject);

    // Checked again after the analysis: the person may have been erased (or refused) meanwhile.
    const blocked = people.blocked(personName);
    if (blocked) return { path, person: personName, ...blockedOutcome(blocked), facesFound: faces.length };
    let personId: number;
    try {
      personId = await people.idFor(personName);
    } catch (error) {
      const failure = toFacedbError(error);
      if (failure.code !== 'invalid_input') throw failure;
      return { path, person: personName, status: 'invalid_name', facesFound: faces.length, message: failure.message };
    }
    let face: Face | undefined;
    try {
      [face] = await this.#context.store.addFaces(personId, [
        {
          sourcePath: loaded.path,
          uploadName: loaded.uploadName ?? null,
          contentHash,
          box: subject.box,
          detectionScore: subject.detectionScore,
          embedding,
          crop: subject.alignedCrop ?? null,
          // Without a path to read it again, keep the photo itself so the face can be re-embedded later.
          photo: loaded.path === null ? loaded.bytes : null,
        },
      ]);
    } catch (error) {
      const failure = toFacedbError(error);
      if (failure.code !== 'not_found') throw failure;
      // Erased while this run was enrolling them: final. Nothing is re-created under the name.
      people.markRemoved(personName);
      return { path, person: personName, status: 'not_found', facesFound: faces.length, message: removedMessage(personName) };
    }
    const owners = enrolled.get(contentHash);
    if (owners) owners.add(personName);
    else enrolled.set(contentHash, new Set([personName]));
    if (!face) return { path, person: personName, status: 'already_enrolled', facesFound: faces.length };
    await this.#context.search.added(face.id, personId, embedding);
    this.#context.rememberName(personId, face.personName);
    return {
      path,
      person: personName,
      status: faces.length > 1 ? 'enrolled_one_of_several' : 'enrolled',
      facesFound: faces.length,
      faceId: face.id,
    };
  }
}

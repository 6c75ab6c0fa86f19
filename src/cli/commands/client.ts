import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { Command } from 'commander';
import type { z } from 'zod';
import { FacedbError, toFacedbError, type ErrorCode } from '../../errors/errors.js';
import { exitCodeFor } from '../../errors/exit-codes.js';
import { expandImageArgs } from '../../image/scan.js';
import * as clusterWire from '../../server/cluster-wire.js';
import * as wire from '../../server/wire.js';
import { combineClusterRuns, type ClusterRunSummary, type UnnamedEnrollOutcome, type UnnamedEnrollStatus, type UnnamedEnrollSummary } from '../../services/cluster-service.js';
import { ENROLL_STATUSES, type EnrollOutcome, type EnrollStatus } from '../../services/results.js';
import { formatClusterRun, formatClusters, formatNamedCluster, formatUnnamedOutcome, formatUnnamedSummary } from '../cluster-report.js';
import { integerOption, print, withFaceLimits, withOperatingPoint } from '../context.js';
import { onInterrupt } from '../interrupt.js';
import {
  formatAnalyze,
  formatEnrollSummary,
  formatFileError,
  formatIdentify,
  formatOutcome,
  formatPeople,
  formatVerify,
} from '../report.js';

/** The same commands as the local ones, run on a facedb server: same reports, same exit codes. */

interface RemoteFlags {
  server: string;
  apiKey?: string;
  json?: boolean;
}

function remote(name: string, description: string): Command {
  return new Command(name)
    .description(description)
    .requiredOption('--server <url>', 'facedb server, e.g. http://127.0.0.1:8080')
    .option('--api-key <key>', 'API key (read scope; admin for enroll, cluster and name-cluster)')
    .option('--json', 'print JSON, as the local command does');
}

type Query = Record<string, number | undefined>;

/** POSTs to the API (multipart for a FormData body, else JSON); see `send`. */
function call<T>(flags: RemoteFlags, path: string, body: FormData | object, schema: z.ZodType<T>): Promise<T> {
  const init: RequestInit =
    body instanceof FormData
      ? { method: 'POST', body }
      : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
  return send(flags, path, {}, init, schema);
}

/** GETs from the API, with the query parameters that are given; see `send`. */
function get<T>(flags: RemoteFlags, path: string, query: Query, schema: z.ZodType<T>): Promise<T> {
  return send(flags, path, query, { method: 'GET' }, schema);
}

function serverUrl(flags: RemoteFlags, path: string): URL {
  try {
    return new URL(path, flags.server);
  } catch {
    throw new FacedbError('invalid_input', `--server ${flags.server} is not a URL`);
  }
}

/** Calls the API; an error envelope becomes the same FacedbError the local command would raise. */
async function send<T>(flags: RemoteFlags, path: string, query: Query, init: RequestInit, schema: z.ZodType<T>): Promise<T> {
  const url = serverUrl(flags, path);
  for (const [name, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(name, String(value));
  const headers = { ...(init.headers as Record<string, string> | undefined), ...(flags.apiKey ? { authorization: `Bearer ${flags.apiKey}` } : {}) };
  let response: Response;
  try {
    response = await fetch(url, { ...init, headers });
  } catch (error) {
    throw new FacedbError('internal', `cannot reach ${url.origin}: ${(error as Error).message}`, { cause: error, details: { unreachable: true } });
  }
  const json: unknown = await response.json().catch(() => null);
  if (!response.ok) {
    const envelope = wire.errorEnvelope.safeParse(json);
    if (envelope.success) throw new FacedbError(envelope.data.error.code, envelope.data.error.message);
    throw new FacedbError('internal', `${url.origin} answered ${response.status} without an error envelope`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new FacedbError('internal', `unexpected answer from ${url.origin}${path}`);
  return parsed.data;
}

async function form(files: Record<string, string>, fields: Record<string, number | undefined> = {}): Promise<FormData> {
  const data = new FormData();
  for (const [field, path] of Object.entries(files)) {
    const bytes = await readFile(path).catch((error: unknown) => {
      throw new FacedbError('not_found', `cannot read ${path}`, { cause: error });
    });
    data.append(field, new Blob([bytes]), basename(path));
  }
  for (const [field, value] of Object.entries(fields)) if (value !== undefined) data.append(field, String(value));
  return data;
}

function printFailure(file: string, failure: FacedbError, json: boolean | undefined): void {
  const report = { file, error: { code: failure.code, message: failure.message } };
  print(json ? JSON.stringify(report) : formatFileError(file, failure));
}

interface IdentifyFlags extends RemoteFlags {
  topK?: number;
  threshold?: number;
  far?: number;
  maxFaces?: number;
  minFaceSize?: number;
}

function identify(): Command {
  const command = remote('identify', 'identify every face in each photo on the server')
    .argument('<images...>', 'image files or folders of images')
    .option('-k, --top-k <n>', 'candidates per face', integerOption('--top-k'));
  return withFaceLimits(withOperatingPoint(command, 'match threshold')).action(async (args: string[], flags: IdentifyFlags) => {
      const fields = { top_k: flags.topK, threshold: flags.threshold, far: flags.far, max_faces: flags.maxFaces, min_face_size: flags.minFaceSize };
      let firstFailure: FacedbError | undefined;
      let imagesWithFaces = 0;
      const files = await expandImageArgs(args);
      for (const file of files) {
        try {
          const result = wire.identifyFromWire(await call(flags, '/v1/identify', await form({ image: file }, fields), wire.identifyResponse));
          if (result.faces.length > 0) imagesWithFaces += 1;
          print(flags.json ? JSON.stringify({ file, ...result }) : `${formatIdentify(file, result)}\n`);
        } catch (error) {
          const failure = toFacedbError(error);
          firstFailure ??= failure;
          printFailure(file, failure, flags.json);
        }
      }
      // As the local command: unreadable input wins; "no face" only when no photo had any face.
      if (firstFailure) process.exitCode = exitCodeFor(firstFailure.code);
      else if (imagesWithFaces === 0 && files.length > 0) process.exitCode = exitCodeFor('no_face');
    });
}

function analyze(): Command {
  const command = remote('analyze', 'emotion, age and gender of every face, on the server').argument(
    '<images...>',
    'image files or folders of images',
  );
  return withFaceLimits(command, 'max-faces').action(async (args: string[], flags: RemoteFlags & { maxFaces?: number }) => {
      for (const file of await expandImageArgs(args)) {
        try {
          const body = await form({ image: file }, { max_faces: flags.maxFaces });
          const result = wire.analyzeFromWire(await call(flags, '/v1/analyze', body, wire.analyzeResponse));
          print(flags.json ? JSON.stringify({ file, ...result }) : `${formatAnalyze(file, result)}\n`);
        } catch (error) {
          const failure = toFacedbError(error);
          process.exitCode = exitCodeFor(failure.code);
          printFailure(file, failure, flags.json);
        }
      }
    });
}

function verify(): Command {
  const command = remote('verify', 'say whether the subjects of two photos (the face at the centre, else the largest) are the same person, on the server')
    .argument('<a>', 'first image')
    .argument('<b>', 'second image');
  return withOperatingPoint(command, 'match threshold').action(async (a: string, b: string, flags: RemoteFlags & { threshold?: number; far?: number }) => {
      const body = await form({ image_a: a, image_b: b }, { threshold: flags.threshold, far: flags.far });
      const result = wire.verifyFromWire(await call(flags, '/v1/verify', body, wire.verifyResponse));
      print(flags.json ? JSON.stringify({ a, b, ...result }) : formatVerify(a, b, result));
    });
}


/**
 * Codes that stop an enrollment run, as they would locally: every further photo would fail the same way
 * (a gallery pinned to another model, a wrong key, a server that sheds load).
 */
const STOPPING_CODES: ReadonlySet<ErrorCode> = new Set(['model_mismatch', 'unauthorized', 'forbidden', 'overloaded', 'rate_limited']);

/** Whether a photo's failure stops the run: a stopping code, or a server that cannot be reached at all. */
function stopsRun(failure: FacedbError): boolean {
  return STOPPING_CODES.has(failure.code) || failure.details?.unreachable === true;
}

/** Codes that mean "this file is not a usable photo" (one not read here, or one the server refused), as locally. */
const UNREADABLE_CODES: ReadonlySet<ErrorCode> = new Set(['not_found', 'invalid_image', 'image_too_large', 'unsupported_media_type']);

/** An outcome for a photo whose request failed on its own (not a stopping code). */
function failedPhoto(failure: FacedbError): { status: 'unreadable' | 'failed'; message: string } {
  return { status: UNREADABLE_CODES.has(failure.code) ? 'unreadable' : 'failed', message: failure.message };
}

interface EnrollFlags extends RemoteFlags {
  person?: string;
  unlabelled?: boolean;
  quiet?: boolean;
}

function enroll(): Command {
  return remote('enroll', 'enroll photos of one person on the server, or with --unlabelled every face without a person (needs an admin key)')
    .argument('<images...>', 'image files or folders of images (with --unlabelled: folders at any depth)')
    .option('-p, --person <name>', 'who the photos show')
    .option('--unlabelled', 'enroll every face of the photos without a person, then cluster them (see client people --clusters)')
    .option('-q, --quiet', 'print only problems and the summary')
    .action(async (args: string[], flags: EnrollFlags) => {
      if (flags.unlabelled) {
        if (flags.person !== undefined) throw new FacedbError('invalid_input', 'give --person or --unlabelled, not both');
        return enrollUnlabelled(args, flags);
      }
      if (flags.person === undefined) throw new FacedbError('invalid_input', 'give --person <name> (the photos of one person) or --unlabelled');
      return enrollPerson(args, { ...flags, person: flags.person });
    });
}

async function enrollPerson(args: string[], flags: EnrollFlags & { person: string }): Promise<void> {
  const started = performance.now();
  const files = await expandImageArgs(args);
  const person = await call(flags, '/v1/people', { name: flags.person }, wire.person);
  const outcomes: EnrollOutcome[] = [];
  // One request per photo: every outcome names its file, and no request nears the body limit.
  for (const file of files) {
    let outcome: EnrollOutcome;
    try {
      const answer = await call(flags, `/v1/people/${person.id}/faces`, await form({ image: file }), wire.enrollResponse);
      const [first] = answer.outcomes;
      if (!first) throw new FacedbError('internal', 'the server returned no outcome');
      outcome = wire.outcomeFromWire(first, file, person.name);
    } catch (error) {
      const failure = toFacedbError(error);
      if (stopsRun(failure)) throw failure;
      outcome = { path: file, person: person.name, facesFound: 0, ...failedPhoto(failure) };
    }
    outcomes.push(outcome);
    const routine = outcome.status === 'enrolled' || outcome.status === 'already_enrolled';
    if (!flags.json && !(flags.quiet && routine)) print(formatOutcome(outcome));
  }
  const counts = Object.fromEntries(ENROLL_STATUSES.map((s) => [s, outcomes.filter((o) => o.status === s).length]));
  const summary = { total: files.length, counts: counts as Record<EnrollStatus, number>, outcomes, elapsedMs: performance.now() - started };
  print(flags.json ? JSON.stringify(summary) : formatEnrollSummary(summary));
}

const UNNAMED_STATUSES: readonly UnnamedEnrollStatus[] = ['enrolled', 'already_enrolled', 'no_face', 'unreadable', 'failed'];

/**
 * `client enroll --unlabelled`: one request per photo (POST /v1/faces), as the named enroll. The server clusters
 * each photo's new faces as it adds them; the summary adds those runs up counting each cluster once (see `combineClusterRuns`).
 */
async function enrollUnlabelled(args: string[], flags: EnrollFlags): Promise<void> {
  const started = performance.now();
  serverUrl(flags, '/'); // a --server that is not a URL fails every photo: refuse it before the first
  const files = await expandImageArgs(args, { recursive: true });
  // As locally: the first Ctrl-C finishes the photo in flight and prints the summary, the second quits.
  const interrupt = onInterrupt('finishing the photo in flight (Ctrl-C again to quit now)');
  const outcomes: UnnamedEnrollOutcome[] = [];
  const runs: ClusterRunSummary[] = [];
  try {
    for (const file of files) {
      if (interrupt.signal.aborted) break;
      let outcome: UnnamedEnrollOutcome;
      try {
        const sent = performance.now();
        const answer = await call(flags, '/v1/faces', await form({ image: file }), clusterWire.unnamedEnrollResponse);
        const [first] = answer.outcomes;
        if (!first) throw new FacedbError('internal', 'the server returned no outcome');
        outcome = clusterWire.unnamedOutcomeFromWire(first, file);
        if (answer.clustering) runs.push(clusterWire.clusterRunFromWire(answer.clustering, performance.now() - sent));
      } catch (error) {
        const failure = toFacedbError(error);
        if (stopsRun(failure)) throw failure;
        outcome = { path: file, facesFound: 0, faceIds: [], ...failedPhoto(failure) };
      }
      // The server speaks of "the upload"; locally a file's error names the file, so name it here too.
      if (outcome.status === 'unreadable' && outcome.message !== undefined && !outcome.message.includes(file)) {
        outcome.message = `${file}: ${outcome.message}`;
      }
      outcomes.push(outcome);
      const routine = outcome.status === 'enrolled' || outcome.status === 'already_enrolled';
      if (!flags.json && !(flags.quiet && routine)) print(formatUnnamedOutcome(outcome));
    }
  } finally {
    interrupt.release();
  }
  const counts = Object.fromEntries(UNNAMED_STATUSES.map((s) => [s, outcomes.filter((o) => o.status === s).length]));
  const summary: UnnamedEnrollSummary = {
    total: files.length,
    counts: counts as Record<UnnamedEnrollStatus, number>,
    facesAdded: outcomes.reduce((sum, o) => sum + o.faceIds.length, 0),
    outcomes,
    clustering: combineClusterRuns(runs),
    elapsedMs: performance.now() - started,
  };
  print(flags.json ? JSON.stringify(summary) : formatUnnamedSummary(summary));
  if (interrupt.signal.aborted) process.exitCode = 130;
}

function cluster(): Command {
  return remote('cluster', 'group the unnamed faces on the server into candidate people; new faces join the existing clusters (needs an admin key)')
    .option('--full', 're-cluster every unnamed face from scratch instead of placing only the new ones')
    .action(async (flags: RemoteFlags & { full?: boolean }) => {
      const sent = performance.now();
      const answer = await call(flags, '/v1/clusters', { full: flags.full ?? false }, clusterWire.clusterRun);
      const run = clusterWire.clusterRunFromWire(answer, performance.now() - sent);
      print(flags.json ? JSON.stringify(run) : formatClusterRun(run));
    });
}

/** The server's page size limit; also the local command's default. */
const MAX_PAGE = 1000;

function people(): Command {
  return remote('people', 'list the people on the server and how many faces each has, or with --clusters the clusters of unnamed faces')
    .option('--limit <n>', 'at most this many people (or clusters)', integerOption('--limit'), MAX_PAGE)
    .option('--offset <n>', 'skip this many people (or clusters)', integerOption('--offset'), 0)
    .option('--clusters', 'list the clusters of unnamed faces instead (candidate people), largest first')
    .option('--samples <n>', 'with --clusters: sample photos per cluster (default 4)', integerOption('--samples'))
    .action(async (flags: RemoteFlags & { limit: number; offset: number; clusters?: boolean; samples?: number }) => {
      const page = { limit: flags.limit, offset: flags.offset };
      if (flags.clusters) {
        const listing = clusterWire.clusterPageFromWire(await get(flags, '/v1/clusters', { ...page, samples: flags.samples }, clusterWire.clusterPage));
        print(flags.json ? JSON.stringify(listing) : formatClusters(listing));
        return;
      }
      const answer = await get(flags, '/v1/people', page, wire.peoplePage);
      const listed = { items: answer.items.map(clusterWire.personFromWire), total: answer.total };
      print(flags.json ? JSON.stringify(listed) : formatPeople(listed.items, listed.total));
    });
}

function nameCluster(): Command {
  return remote('name-cluster', 'turn a cluster on the server into a person: a new person of that name, or more faces for an existing one (needs an admin key)')
    .argument('<cluster-id>', 'the cluster, as listed by facedb client people --clusters', integerOption('<cluster-id>'))
    .argument('<name>', 'the person\'s name, e.g. "Ada Lovelace"')
    .action(async (clusterId: number, name: string, flags: RemoteFlags) => {
      if (name.trim() === '') throw new FacedbError('invalid_input', 'the name must not be empty');
      // The route takes positive ids only; locally any other id is simply no cluster.
      if (clusterId < 1) throw new FacedbError('not_found', `no cluster with id ${clusterId}`);
      const answer = await call(flags, `/v1/clusters/${clusterId}/name`, { name }, clusterWire.namedCluster);
      const named = clusterWire.namedClusterFromWire(answer);
      print(flags.json ? JSON.stringify(named) : formatNamedCluster(clusterId, named));
    });
}

export function clientCommand(): Command {
  const client = new Command('client').description(
    'run identify, verify, analyze, enroll, people, cluster or name-cluster on a facedb server (facedb serve)',
  );
  for (const command of [identify(), verify(), analyze(), enroll(), people(), cluster(), nameCluster()]) client.addCommand(command.exitOverride());
  return client;
}

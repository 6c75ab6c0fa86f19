import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { Command } from 'commander';
import type { z } from 'zod';
import { FacedbError, toFacedbError } from '../../errors/errors.js';
import { exitCodeFor } from '../../errors/exit-codes.js';
import { expandImageArgs } from '../../image/scan.js';
import * as wire from '../../server/wire.js';
import { ENROLL_STATUSES, type EnrollOutcome, type EnrollStatus } from '../../services/results.js';
import { integerOption, print, withFaceLimits, withOperatingPoint } from '../context.js';
import { formatAnalyze, formatEnrollSummary, formatFileError, formatIdentify, formatOutcome, formatVerify } from '../report.js';

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
    .option('--api-key <key>', 'API key (read scope; admin for enroll)')
    .option('--json', 'print JSON, as the local command does');
}

/** Calls the API; an error envelope becomes the same FacedbError the local command would raise. */
async function call<T>(flags: RemoteFlags, path: string, body: FormData | object, schema: z.ZodType<T>): Promise<T> {
  let url: URL;
  try {
    url = new URL(path, flags.server);
  } catch {
    throw new FacedbError('invalid_input', `--server ${flags.server} is not a URL`);
  }
  const headers: Record<string, string> = flags.apiKey ? { authorization: `Bearer ${flags.apiKey}` } : {};
  const init: RequestInit =
    body instanceof FormData
      ? { method: 'POST', headers, body }
      : { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) };
  let response: Response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    throw new FacedbError('internal', `cannot reach ${url.origin}: ${(error as Error).message}`, { cause: error });
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


function enroll(): Command {
  return remote('enroll', 'enroll photos of one person on the server (needs an admin key)')
    .argument('<images...>', 'image files or folders of images')
    .requiredOption('-p, --person <name>', 'who the photos show')
    .option('-q, --quiet', 'print only problems and the summary')
    .action(async (args: string[], flags: RemoteFlags & { person: string; quiet?: boolean }) => {
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
          // These stop the run, as they would locally (or every further photo would fail the same way).
          if (['model_mismatch', 'unauthorized', 'forbidden', 'overloaded', 'rate_limited'].includes(failure.code)) throw failure;
          const status = failure.code === 'not_found' ? 'unreadable' : 'failed';
          outcome = { path: file, person: person.name, status, facesFound: 0, message: failure.message };
        }
        outcomes.push(outcome);
        const routine = outcome.status === 'enrolled' || outcome.status === 'already_enrolled';
        if (!flags.json && !(flags.quiet && routine)) print(formatOutcome(outcome));
      }
      const counts = Object.fromEntries(ENROLL_STATUSES.map((s) => [s, outcomes.filter((o) => o.status === s).length]));
      const summary = { total: files.length, counts: counts as Record<EnrollStatus, number>, outcomes, elapsedMs: performance.now() - started };
      print(flags.json ? JSON.stringify(summary) : formatEnrollSummary(summary));
    });
}

export function clientCommand(): Command {
  const client = new Command('client').description('run identify, verify, analyze or enroll on a facedb server (facedb serve)');
  for (const command of [identify(), verify(), analyze(), enroll()]) client.addCommand(command.exitOverride());
  return client;
}

import { Command } from 'commander';
import { FacedbError, toFacedbError, type ErrorCode } from '../../errors/errors.js';
import { EXIT_INTERRUPTED } from '../../errors/exit-codes.js';
import { listImageArgs } from '../../image/scan.js';
import * as clusterWire from '../../server/cluster-wire.js';
import * as wire from '../../server/wire.js';
import { combineClusterRuns, type ClusterRunSummary, type UnnamedEnrollOutcome, type UnnamedEnrollStatus, type UnnamedEnrollSummary } from '../../services/cluster-service.js';
import { ENROLL_STATUSES, type EnrollOutcome, type EnrollStatus } from '../../services/results.js';
import { enrollExitCode, FLAT_FOLDER, reportSkipped, STOPS_RUN } from '../batch.js';
import { formatUnnamedOutcome, formatUnnamedSummary } from '../cluster-report.js';
import { print } from '../context.js';
import { onInterrupt } from '../interrupt.js';
import { call, form, remote, serverUrl, type RemoteFlags } from '../remote.js';
import { formatEnrollSummary, formatOutcome } from '../report.js';

/** `facedb client enroll`: one request per photo, with the outcomes, summary and exit codes of the local command. */

/** Codes that mean "this file is not a usable photo" (one not read here, or one the server refused), as locally. */
const UNREADABLE_CODES: ReadonlySet<ErrorCode> = new Set(['not_found', 'invalid_image', 'image_too_large', 'unsupported_media_type']);

/** An outcome for a photo whose request failed on its own; a failure of the whole run (STOPS_RUN) stops it instead. */
function failedPhoto(error: unknown): { status: 'unreadable' | 'failed'; message: string } {
  const failure = toFacedbError(error);
  if (STOPS_RUN.has(failure.code)) throw failure;
  return { status: UNREADABLE_CODES.has(failure.code) ? 'unreadable' : 'failed', message: failure.message };
}

interface EnrollFlags extends RemoteFlags {
  person?: string;
  unlabelled?: boolean;
  quiet?: boolean;
}

export function clientEnroll(): Command {
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
  const { images: files, skipped } = await listImageArgs(args);
  reportSkipped(skipped, FLAT_FOLDER);
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
      outcome = { path: file, person: person.name, facesFound: 0, ...failedPhoto(error) };
    }
    outcomes.push(outcome);
    const routine = outcome.status === 'enrolled' || outcome.status === 'already_enrolled';
    if (!flags.json && !(flags.quiet && routine)) print(formatOutcome(outcome));
  }
  const counts = Object.fromEntries(ENROLL_STATUSES.map((s) => [s, outcomes.filter((o) => o.status === s).length]));
  const summary = { total: files.length, counts: counts as Record<EnrollStatus, number>, outcomes, elapsedMs: performance.now() - started };
  print(flags.json ? JSON.stringify(summary) : formatEnrollSummary(summary));
  process.exitCode = enrollExitCode(outcomes);
}

const UNNAMED_STATUSES: readonly UnnamedEnrollStatus[] = ['enrolled', 'already_enrolled', 'no_face', 'unreadable', 'failed'];

/**
 * `client enroll --unlabelled`: one request per photo (POST /v1/faces), as the named enroll. The server clusters
 * each photo's new faces as it adds them; the summary adds those runs up counting each cluster once (see `combineClusterRuns`).
 */
async function enrollUnlabelled(args: string[], flags: EnrollFlags): Promise<void> {
  const started = performance.now();
  serverUrl(flags, '/'); // a --server that is not a URL fails every photo: refuse it before the first
  const { images: files, skipped } = await listImageArgs(args, { recursive: true });
  reportSkipped(skipped, 'every photo beneath a folder is read');
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
        outcome = { path: file, facesFound: 0, faceIds: [], ...failedPhoto(error) };
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
  process.exitCode = interrupt.signal.aborted ? EXIT_INTERRUPTED : enrollExitCode(outcomes);
}

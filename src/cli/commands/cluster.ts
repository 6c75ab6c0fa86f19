import { Command } from 'commander';
import { FacedbError } from '../../errors/errors.js';
import { EXIT_INTERRUPTED } from '../../errors/exit-codes.js';
import { listImageArgs } from '../../image/scan.js';
import { ClusterService, DEFAULT_CLUSTER_SAMPLES } from '../../services/cluster-service.js';
import { formatClusterRun, formatClusters, formatNamedCluster, formatUnnamedOutcome, formatUnnamedSummary } from '../cluster-report.js';
import { enrollExitCode, reportSkipped } from '../batch.js';
import { integerOption, print, type CliContext } from '../context.js';
import { onInterrupt } from '../interrupt.js';
import { ProgressLine } from '../progress.js';

/** `facedb enroll --unlabelled <paths...>`: every face of every photo (folders at any depth), no person. */
export async function enrollUnlabelled(ctx: CliContext, paths: string[], flags: { json?: boolean; quiet?: boolean }): Promise<void> {
  const { images: files, skipped } = await listImageArgs(paths, { recursive: true });
  reportSkipped(skipped, 'every photo beneath a folder is read');
  const service = await ctx.open('create');
  const interrupt = onInterrupt('finishing photos in flight (Ctrl-C again to quit now)');
  const progress = new ProgressLine(files.length);
  try {
    const summary = await new ClusterService(service).enroll(files, {
      signal: interrupt.signal,
      onOutcome: (outcome, done) => {
        const routine = outcome.status === 'enrolled' || outcome.status === 'already_enrolled';
        if (!flags.json && !(flags.quiet && routine)) progress.log(formatUnnamedOutcome(outcome));
        progress.update(done);
      },
    });
    progress.finish(summary.outcomes.length);
    print(flags.json ? JSON.stringify(summary) : formatUnnamedSummary(summary));
    process.exitCode = interrupt.signal.aborted ? EXIT_INTERRUPTED : enrollExitCode(summary.outcomes);
  } finally {
    interrupt.release();
    await service.close();
  }
}

/** `facedb people --clusters`. */
export async function printClusters(ctx: CliContext, flags: { json?: boolean; limit: number; offset: number; samples?: number }): Promise<void> {
  const service = await ctx.open('existing');
  try {
    const listing = await new ClusterService(service).listClusters({ limit: flags.limit, offset: flags.offset }, flags.samples ?? DEFAULT_CLUSTER_SAMPLES);
    print(flags.json ? JSON.stringify(listing) : formatClusters(listing));
  } finally {
    await service.close();
  }
}

export function clusterCommand(ctx: CliContext): Command {
  return new Command('cluster')
    .description('group the faces nobody has named (enroll --unlabelled) into candidate people; new faces join the existing clusters')
    .option('--full', 're-cluster every unnamed face from scratch instead of placing only the new ones')
    .option('--json', 'print the summary as JSON')
    .action(async (flags: { full?: boolean; json?: boolean }) => {
      const service = await ctx.open('existing');
      try {
        const run = await new ClusterService(service).cluster({ full: flags.full ?? false });
        print(flags.json ? JSON.stringify(run) : formatClusterRun(run));
      } finally {
        await service.close();
      }
    });
}

export function nameClusterCommand(ctx: CliContext): Command {
  return new Command('name-cluster')
    .description('turn a cluster into a person: a new person of that name, or more faces for an existing one')
    .argument('<cluster-id>', 'the cluster, as listed by facedb people --clusters', integerOption('<cluster-id>'))
    .argument('<name>', 'the person\'s name, e.g. "Ada Lovelace"')
    .option('--force', 'add it to an existing person even when it is far from them or was rejected for them (facedb reject)')
    .option('--json', 'print the result as JSON')
    .action(async (clusterId: number, name: string, flags: { json?: boolean; force?: boolean }) => {
      if (name.trim() === '') throw new FacedbError('invalid_input', 'the name must not be empty');
      const service = await ctx.open('existing');
      try {
        const named = await new ClusterService(service).nameCluster(clusterId, name, { force: flags.force ?? false });
        print(flags.json ? JSON.stringify(named) : formatNamedCluster(clusterId, named));
      } finally {
        await service.close();
      }
    });
}

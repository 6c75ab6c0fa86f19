import { Command } from 'commander';
import { integerOption, print, type CliContext } from '../context.js';
import { formatPeople } from '../report.js';
import { printClusters } from './cluster.js';

export function peopleCommand(ctx: CliContext): Command {
  return new Command('people')
    .description('list enrolled people and how many faces each has')
    .option('--json', 'print as JSON')
    .option('--limit <n>', 'at most this many people', integerOption('--limit'), 1000)
    .option('--offset <n>', 'skip this many people', integerOption('--offset'), 0)
    .option('--clusters', 'list the clusters of unnamed faces instead (candidate people), largest first')
    .option('--samples <n>', 'with --clusters: sample photos per cluster (default 4)', integerOption('--samples'))
    .action(async (flags: { json?: boolean; limit: number; offset: number; clusters?: boolean; samples?: number }) => {
      if (flags.clusters) return printClusters(ctx, flags);
      const service = await ctx.open('existing');
      try {
        const page = await service.listPeople({ limit: flags.limit, offset: flags.offset });
        print(flags.json ? JSON.stringify(page) : formatPeople(page.items, page.total));
      } finally {
        await service.close();
      }
    });
}

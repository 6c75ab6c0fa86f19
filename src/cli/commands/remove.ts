import { Command } from 'commander';
import { print, type CliContext } from '../context.js';
import { formatRemoved } from '../report.js';

export function removeCommand(ctx: CliContext): Command {
  return new Command('remove')
    .description("erase a person with all their faces and embeddings")
    .argument('<person>', 'the name as listed by `facedb people` (or #<id>)')
    .option('--json', 'print the result as JSON')
    .action(async (name: string, flags: { json?: boolean }) => {
      const service = await ctx.open('existing');
      try {
        const key = /^#\d+$/.test(name) ? Number(name.slice(1)) : name;
        const { person, facesRemoved } = await service.removePerson(key);
        const removed = { removed: person.name, personId: person.id, facesRemoved };
        print(flags.json ? JSON.stringify(removed) : formatRemoved(removed));
      } finally {
        await service.close();
      }
    });
}

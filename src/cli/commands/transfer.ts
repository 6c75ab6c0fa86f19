import { createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Command } from 'commander';
import type { ImportSummary } from '../../services/results.js';
import { print, type CliContext } from '../context.js';
import { shown } from '../report.js';

/** `facedb export` and `facedb import`: the gallery as one portable file (src/services/transfer/format.ts). */

/**
 * Writes lines to `file` through a temporary file beside it, moved into place once complete: an interrupted
 * export never leaves a file under that name that looks whole. Returns the trailer line and the size.
 */
export async function writeExport(lines: AsyncIterable<string>, file: string): Promise<{ trailer: string; bytes: number }> {
  const partial = `${file}.partial-${process.pid}`;
  let trailer = '';
  async function* keepingLast(): AsyncGenerator<string> {
    for await (const line of lines) {
      trailer = line;
      yield line;
    }
  }
  try {
    await pipeline(Readable.from(keepingLast()), createWriteStream(partial));
    await rename(partial, file);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
  return { trailer, bytes: (await stat(file)).size };
}

export function formatExported(file: string, trailer: string, bytes: number): string {
  const { counts } = JSON.parse(trailer) as { counts: Record<string, number> };
  const parts = Object.entries(counts).map(([what, n]) => `${n} ${what.replace('_', ' ')}`);
  return `exported ${parts.join(', ')} to ${shown(file)} (${(bytes / 1e6).toFixed(1)} MB)`;
}

export function formatImported(file: string, summary: ImportSummary): string {
  const { people, faces, unnamedFaces } = summary;
  return [
    `imported ${shown(file)} (model ${summary.model.id}@${summary.model.version})`,
    `  people: ${people.added} added, ${people.existing} already there`,
    `  faces: ${faces.added} added, ${faces.skipped} already there`,
    `  unnamed faces: ${unnamedFaces.added} added, ${unnamedFaces.skipped} already there; ${summary.clusters} clusters made`,
    `  gallery calibration: ${summary.calibration}`,
  ].join('\n');
}

export function exportCommand(ctx: CliContext): Command {
  return new Command('export')
    .description('write the whole gallery (people, faces with embeddings, unnamed faces, clusters, calibration) to one portable JSON-lines file')
    .argument('<file>', 'the file to write')
    .option('--photos', 'also the photo bytes facedb keeps (of uploads; enrolled files are referred to by path)')
    .option('--json', 'print the trailer (counts and SHA-256) as JSON')
    .action(async (file: string, flags: { photos?: boolean; json?: boolean }) => {
      const service = await ctx.open('existing');
      try {
        const { trailer, bytes } = await writeExport(service.exportGallery({ photos: flags.photos === true }), file);
        print(flags.json ? JSON.stringify({ file, bytes, ...(JSON.parse(trailer) as object) }) : formatExported(file, trailer, bytes));
      } finally {
        await service.close();
      }
    });
}

export function importCommand(ctx: CliContext): Command {
  return new Command('import')
    .description('load a file written by facedb export into this gallery (empty, or pinned to the same model); importing twice adds nothing')
    .argument('<file>', 'the file to read')
    .option('--json', 'print the summary as JSON')
    .action(async (file: string, flags: { json?: boolean }) => {
      const service = await ctx.open('create');
      try {
        const summary = await service.importGallery(file);
        print(flags.json ? JSON.stringify({ file, ...summary }) : formatImported(file, summary));
      } finally {
        await service.close();
      }
    });
}

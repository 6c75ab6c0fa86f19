import { createWriteStream } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Command } from 'commander';
import { FacedbError } from '../../errors/errors.js';
import type { ImportSummary } from '../../services/results.js';
import { print, type CliContext } from '../context.js';
import { shown } from '../report.js';

/** `facedb export` and `facedb import`: the gallery as one portable file (src/services/transfer/format.ts). */

/**
 * Writes an export (lines from the library, or a server's answer) to `file` through a temporary file beside it,
 * moved into place only once it ends with its trailer: an interrupted export never leaves a file under that name
 * that looks whole. Returns the trailer line and the size.
 */
export async function writeExport(source: AsyncIterable<string | Uint8Array>, file: string): Promise<{ trailer: string; bytes: number }> {
  const partial = `${file}.partial-${process.pid}`;
  try {
    await pipeline(Readable.from(source), createWriteStream(partial));
    const trailer = await lastLine(partial);
    if (!trailer.startsWith('{"type":"trailer"')) throw new FacedbError('unreachable', 'the export ended before its trailer (cut short); nothing was written');
    await rename(partial, file);
    return { trailer, bytes: (await stat(file)).size };
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
}

/** The last line of a file (the trailer is short: the last 64 KiB hold it). */
async function lastLine(path: string): Promise<string> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, 64 * 1024);
    const tail = Buffer.alloc(length);
    await handle.read(tail, 0, length, size - length);
    const lines = tail.toString('utf8').trimEnd().split('\n');
    return lines[lines.length - 1] ?? '';
  } finally {
    await handle.close();
  }
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
    `  constraints: ${summary.constraints} added`,
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

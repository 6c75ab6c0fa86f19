import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { FacedbError } from '../errors/errors.js';
import { fileError } from './decode.js';

/**
 * Expands command-line arguments for an unlabelled enrollment: a file stays as given, a directory becomes every
 * file beneath it, at any depth (a photo archive, or an LFW-layout folder whose names are to be ignored). Sorted
 * by path within each argument, hidden names skipped, symbolic links to files followed but not links to folders
 * (no loops). No extension filter: decoding decides what is an image.
 */
export async function expandImageTree(paths: readonly string[]): Promise<string[]> {
  if (paths.length === 0) throw new FacedbError('invalid_input', 'no image paths given');
  const files: string[] = [];
  for (const path of paths) {
    let info;
    try {
      info = await stat(path);
    } catch (error) {
      throw fileError(path, error);
    }
    if (!info.isDirectory()) {
      files.push(path);
      continue;
    }
    const found = await filesBelow(path);
    if (found.length === 0) throw new FacedbError('invalid_input', `no images found in ${path}`, { details: { path } });
    files.push(...found);
  }
  return files;
}

async function filesBelow(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    throw fileError(dir, error);
  }
  const names = entries.filter((entry) => !entry.name.startsWith('.')).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const files: string[] = [];
  for (const entry of names) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await filesBelow(path)));
    else if (entry.isFile()) files.push(path);
    else if (entry.isSymbolicLink() && (await stat(path).catch(() => undefined))?.isFile()) files.push(path);
  }
  return files;
}

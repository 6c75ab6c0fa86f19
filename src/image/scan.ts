import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { FacedbError } from '../errors/errors.js';
import { fileError } from './decode.js';

export interface LabelledImagePath {
  /** Display name from the folder: "Brad_Pitt" → "Brad Pitt". */
  person: string;
  path: string;
}

/** "Brad_Pitt" → "Brad Pitt"; a folder name that is only underscores is kept as it is. */
export function personNameFromFolder(folder: string): string {
  const name = folder.replace(/_+/g, ' ').replace(/\s+/g, ' ').trim();
  return name === '' ? folder : name;
}

/** Plain code-unit order rather than locale order, so every machine enrolls in the same sequence. */
const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

async function requireDirectory(path: string): Promise<void> {
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    throw fileError(path, error);
  }
  if (!info.isDirectory()) {
    throw new FacedbError('invalid_input', `${path} is not a directory`, { details: { path } });
  }
}

/**
 * Entries of a directory that are (or link to) regular files, or directories when `want` says so,
 * sorted, hidden names skipped. No extension filter: decoding decides what is an image.
 */
async function listEntries(dir: string, want: 'file' | 'directory'): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    throw fileError(dir, error);
  }
  const names: string[] = [];
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    let isFile = entry.isFile();
    let isDirectory = entry.isDirectory();
    if (entry.isSymbolicLink()) {
      const target = await stat(join(dir, entry.name)).catch(() => undefined);
      isFile = target?.isFile() ?? false;
      isDirectory = target?.isDirectory() ?? false;
    }
    if (want === 'file' ? isFile : isDirectory) names.push(entry.name);
  }
  return names.sort(byName);
}

/**
 * Lists a gallery laid out as `root/<Person_Name>/<photo>` (the LFW layout). Files directly under
 * `root` and folders nested inside a person's folder are not part of the layout and are ignored.
 */
export async function scanLfwLayout(root: string): Promise<LabelledImagePath[]> {
  await requireDirectory(root);
  const images: LabelledImagePath[] = [];
  for (const folder of await listEntries(root, 'directory')) {
    const person = personNameFromFolder(folder);
    const dir = join(root, folder);
    for (const file of await listEntries(dir, 'file')) images.push({ person, path: join(dir, file) });
  }
  if (images.length === 0) {
    throw new FacedbError('invalid_input', `no images found in ${root} (expected ${root}/<Person_Name>/<photo>)`, {
      details: { path: root },
    });
  }
  return images;
}

/**
 * Expands command-line arguments: a file stays as given, a directory becomes its files, in argument order.
 * With `recursive` (an unlabelled enrollment of a photo archive) a directory becomes every file beneath it, at any
 * depth, sorted by path; symbolic links to files are followed, links to folders are not (no loops).
 * No extension filter: decoding decides what is an image.
 */
export async function expandImageArgs(paths: readonly string[], options: { recursive?: boolean } = {}): Promise<string[]> {
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
    const found = options.recursive ? await filesBelow(path) : (await listEntries(path, 'file')).map((name) => join(path, name));
    if (found.length === 0) {
      throw new FacedbError('invalid_input', `no images found in ${path}`, { details: { path } });
    }
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
  const names = entries.filter((entry) => !entry.name.startsWith('.')).sort((a, b) => byName(a.name, b.name));
  const files: string[] = [];
  for (const entry of names) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await filesBelow(path)));
    else if (entry.isFile()) files.push(path);
    else if (entry.isSymbolicLink() && (await stat(path).catch(() => undefined))?.isFile()) files.push(path);
  }
  return files;
}

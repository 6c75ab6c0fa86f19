import { open, readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { FacedbError } from '../errors/errors.js';
import { fileError, sniffContainer } from './decode.js';

export interface LabelledImagePath {
  /** Display name from the folder: "Brad_Pitt" → "Brad Pitt". */
  person: string;
  path: string;
}

/** What a folder listing left out, so that a command can say so in one line instead of skipping without a word. */
export interface SkippedEntries {
  /** Files that are not images: neither an image file's extension nor an image's first bytes (readme.txt, notes.json). */
  notImages: string[];
  /**
   * Entries the layout does not read: photos directly in an LFW-layout root, folders inside a person's folder, or
   * folders inside a folder of photos (listed flat). Folders end with "/".
   */
  outsideLayout: string[];
}

export interface ImageListing<T> {
  images: T[];
  skipped: SkippedEntries;
}

/** "Brad_Pitt" → "Brad Pitt"; a folder name that is only underscores is kept as it is. */
export function personNameFromFolder(folder: string): string {
  const name = folder.replace(/_+/g, ' ').replace(/\s+/g, ' ').trim();
  return name === '' ? folder : name;
}

/** Plain code-unit order rather than locale order, so every machine enrolls in the same sequence. */
const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Extensions of the photo formats people keep (decodable or not: a .heic or .bmp is a photo facedb cannot read, and is
 * reported as such rather than skipped).
 */
const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.jpe', '.jfif', '.png', '.webp', '.gif', '.tif', '.tiff', '.avif', '.heic', '.heif', '.bmp']);

/**
 * Whether a file found in a folder is a photo to try: an image file's extension, or (any other name) an image's first
 * bytes. A file whose first bytes cannot be read is tried, so that decoding reports why.
 */
async function isImageFile(path: string): Promise<boolean> {
  if (IMAGE_EXTENSIONS.has(extname(path).toLowerCase())) return true;
  let handle;
  try {
    handle = await open(path, 'r');
    const head = new Uint8Array(16);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    return sniffContainer(head.subarray(0, bytesRead)) !== undefined;
  } catch {
    return true;
  } finally {
    await handle?.close();
  }
}

/** Splits files found in a folder into photos and the rest (added to `skipped`). */
async function keepImages(paths: readonly string[], skipped: SkippedEntries): Promise<string[]> {
  const images: string[] = [];
  for (const path of paths) {
    if (await isImageFile(path)) images.push(path);
    else skipped.notImages.push(path);
  }
  return images;
}

const noneSkipped = (): SkippedEntries => ({ notImages: [], outsideLayout: [] });

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
 * The files and folders of a directory (following symbolic links), each sorted, hidden names skipped.
 */
async function listEntries(dir: string): Promise<{ files: string[]; folders: string[] }> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    throw fileError(dir, error);
  }
  const files: string[] = [];
  const folders: string[] = [];
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    let isFile = entry.isFile();
    let isDirectory = entry.isDirectory();
    if (entry.isSymbolicLink()) {
      const target = await stat(join(dir, entry.name)).catch(() => undefined);
      isFile = target?.isFile() ?? false;
      isDirectory = target?.isDirectory() ?? false;
    }
    if (isFile) files.push(entry.name);
    else if (isDirectory) folders.push(entry.name);
  }
  return { files: files.sort(byName), folders: folders.sort(byName) };
}

function noImagesFound(path: string, skipped: SkippedEntries, expected = ''): FacedbError {
  const notImages = skipped.notImages.length > 0 ? `; ${skipped.notImages.length} files that are not images skipped` : '';
  return new FacedbError('invalid_input', `no images found in ${path}${expected}${notImages}`, { details: { path } });
}

/**
 * Lists a gallery laid out as `root/<Person_Name>/<photo>` (the LFW layout), with what it left out: files directly
 * under `root` and folders inside a person's folder are not part of the layout, files that are not images are not
 * photos.
 */
export async function listLfwLayout(root: string): Promise<ImageListing<LabelledImagePath>> {
  await requireDirectory(root);
  const images: LabelledImagePath[] = [];
  const skipped = noneSkipped();
  const top = await listEntries(root);
  for (const path of top.files.map((name) => join(root, name))) {
    if (await isImageFile(path)) skipped.outsideLayout.push(path);
    else skipped.notImages.push(path);
  }
  for (const folder of top.folders) {
    const person = personNameFromFolder(folder);
    const dir = join(root, folder);
    const { files, folders } = await listEntries(dir);
    skipped.outsideLayout.push(...folders.map((name) => `${join(dir, name)}/`));
    const photos = await keepImages(files.map((name) => join(dir, name)), skipped);
    images.push(...photos.map((path) => ({ person, path })));
  }
  if (images.length === 0) throw noImagesFound(root, skipped, ` (expected ${root}/<Person_Name>/<photo>)`);
  return { images, skipped };
}

/** `listLfwLayout` without what it left out (the library's scan). */
export async function scanLfwLayout(root: string): Promise<LabelledImagePath[]> {
  return (await listLfwLayout(root)).images;
}

/**
 * Expands command-line arguments: a file stays as given (whatever its name: the user chose it), a directory becomes
 * its photos, in argument order; what a directory held that is not a photo, or a folder inside it, is listed as
 * skipped. With `recursive` (an unlabelled enrollment of a photo archive) a directory becomes every photo beneath it,
 * at any depth, sorted by path; symbolic links to files are followed, links to folders are not (no loops).
 */
export async function listImageArgs(paths: readonly string[], options: { recursive?: boolean } = {}): Promise<ImageListing<string>> {
  if (paths.length === 0) throw new FacedbError('invalid_input', 'no image paths given');
  const images: string[] = [];
  const skipped = noneSkipped();
  for (const path of paths) {
    let info;
    try {
      info = await stat(path);
    } catch (error) {
      throw fileError(path, error);
    }
    if (!info.isDirectory()) {
      images.push(path);
      continue;
    }
    const here = noneSkipped();
    let found: string[];
    if (options.recursive) {
      found = await keepImages(await filesBelow(path), here);
    } else {
      const { files, folders } = await listEntries(path);
      here.outsideLayout.push(...folders.map((name) => `${join(path, name)}/`));
      found = await keepImages(files.map((name) => join(path, name)), here);
    }
    if (found.length === 0) throw noImagesFound(path, here);
    images.push(...found);
    skipped.notImages.push(...here.notImages);
    skipped.outsideLayout.push(...here.outsideLayout);
  }
  return { images, skipped };
}

/** `listImageArgs` without what it left out. */
export async function expandImageArgs(paths: readonly string[], options: { recursive?: boolean } = {}): Promise<string[]> {
  return (await listImageArgs(paths, options)).images;
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

import { readFile, stat } from 'node:fs/promises';
import sharp, { type Metadata, type OutputInfo } from 'sharp';
import { FacedbError } from '../errors/errors.js';
import type { DecodedImage, ImageSource, LoadedImage } from './image.js';

export interface ImageLimits {
  /** Largest width × height accepted (first frame); checked from the header before any pixel is decoded. */
  maxPixels: number;
  /** Largest encoded size accepted, in bytes. */
  maxFileBytes: number;
  /**
   * Longest side of the decoded pixels: larger photos are shrunk while decoding (JPEG even skips the DCT
   * detail it does not need), so a near-limit upload never exists at full size in memory. Unset: no shrink.
   */
  maxSide?: number;
}

/** What this sharp build decodes and facedb accepts, for error messages. */
export const SUPPORTED_FORMATS = ['jpeg', 'png', 'webp', 'gif', 'tiff', 'avif'] as const;
const SUPPORTED_LIST = 'JPEG, PNG, WebP, GIF, TIFF or AVIF';

type Container = 'jpeg' | 'png' | 'webp' | 'gif' | 'tiff' | 'heif';

const ascii = (bytes: Uint8Array, start: number, end: number): string =>
  String.fromCharCode(...bytes.subarray(start, end));

/**
 * Identifies the container from its magic bytes. sharp would also sniff the content, but it accepts
 * SVG too (an XML renderer we do not want to expose to uploads), so only known raster containers
 * are handed to it.
 */
export function sniffContainer(bytes: Uint8Array): Container | undefined {
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (ascii(bytes, 0, 8) === '\x89PNG\r\n\x1a\n') return 'png';
  if (ascii(bytes, 0, 6) === 'GIF87a' || ascii(bytes, 0, 6) === 'GIF89a') return 'gif';
  if (ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 12) === 'WEBP') return 'webp';
  const tiff = ascii(bytes, 0, 4);
  if (tiff === 'II*\0' || tiff === 'MM\0*' || tiff === 'II+\0' || tiff === 'MM\0+') return 'tiff';
  // ISO-BMFF: AVIF and HEIC share the container; the codec is told apart after reading the header.
  if (ascii(bytes, 4, 8) === 'ftyp' && /^(avi[fs]|hei[cxms]|hev[cx]|mif1|msf1)$/.test(ascii(bytes, 8, 12))) {
    return 'heif';
  }
  return undefined;
}

/** Names formats people commonly try, so the error says "unsupported" instead of "not an image". */
function describeUnsupported(bytes: Uint8Array): string | undefined {
  const head = new TextDecoder().decode(bytes.subarray(0, 1024)).replace(/^\uFEFF/, '').trimStart();
  if (head.startsWith('<') && /<svg[\s>]/i.test(head)) return 'SVG';
  if (ascii(bytes, 0, 2) === 'BM' && bytes.length > 26 && [12, 40, 52, 56, 108, 124].includes(bytes[14] ?? 0)) {
    return 'BMP';
  }
  if (ascii(bytes, 0, 4) === '%PDF') return 'PDF';
  return undefined;
}

function pixelLimitError(width: number, height: number, limits: ImageLimits): FacedbError {
  return new FacedbError(
    'image_too_large',
    `image is ${width}×${height} = ${width * height} pixels, over the limit of ${limits.maxPixels}`,
    { details: { width, height, maxPixels: limits.maxPixels } },
  );
}

function sharpMessage(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).trim().split('\n')[0] ?? 'unknown error';
}

function invalid(problem: string, cause?: unknown): FacedbError {
  return new FacedbError('invalid_image', problem, cause === undefined ? undefined : { cause });
}

/**
 * Decodes JPEG, PNG, WebP, GIF (first frame), TIFF (first page) or AVIF bytes — identified by content,
 * never by a file name — into EXIF-oriented, 8-bit, 3-channel sRGB. Grayscale, CMYK and 16-bit images
 * are converted; transparency is flattened onto white.
 */
export async function decodeImage(bytes: Uint8Array, limits: ImageLimits): Promise<DecodedImage> {
  if (bytes.length === 0) throw invalid('the file is empty (0 bytes)');
  if (bytes.length > limits.maxFileBytes) {
    throw new FacedbError(
      'image_too_large',
      `file is ${bytes.length} bytes, over the limit of ${limits.maxFileBytes}`,
      { details: { bytes: bytes.length, maxFileBytes: limits.maxFileBytes } },
    );
  }
  const container = sniffContainer(bytes);
  if (container === undefined) {
    const unsupported = describeUnsupported(bytes);
    if (unsupported !== undefined) {
      throw new FacedbError('unsupported_media_type', `${unsupported} images are not supported; use ${SUPPORTED_LIST}`);
    }
    throw invalid(`not an image: the content is not ${SUPPORTED_LIST}`);
  }

  // Pixel limit first, from the header alone: a small file can declare a huge canvas (decompression bomb).
  // sharp's own limit is off for this header read only so the error can state the declared size.
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (error) {
    throw invalid(`corrupt ${container} header: ${sharpMessage(error)}`, error);
  }
  const width = meta.width;
  // Animated GIFs and multi-page TIFFs report the page height; only the first page is decoded.
  const height = meta.pageHeight ?? meta.height;
  if (!(width > 0 && height > 0)) throw invalid(`the ${container} header declares no image size`);
  if (width * height > limits.maxPixels) throw pixelLimitError(width, height, limits);

  let format: string = meta.format;
  if (meta.format === 'heif') {
    // Prebuilt sharp decodes AV1 (AVIF) only; HEVC (iPhone HEIC) needs a patent-encumbered codec it lacks.
    if (meta.compression !== 'av1') {
      throw new FacedbError('unsupported_media_type', `HEIC/HEVC images are not supported; use ${SUPPORTED_LIST}`);
    }
    format = 'avif';
  }

  // The size after EXIF orientation: orientations 5-8 turn the picture a quarter.
  const [orientedWidth, orientedHeight] = (meta.orientation ?? 1) >= 5 ? [height, width] : [width, height];
  const shrink = limits.maxSide !== undefined && Math.max(orientedWidth, orientedHeight) > limits.maxSide;

  let decoded: { data: Buffer; info: OutputInfo };
  try {
    // failOn 'error' rejects truncated and corrupt data but tolerates the harmless warnings many cameras cause.
    // Sequential reading lets libvips stream the rows through the resize instead of holding the full image.
    let pipeline = sharp(bytes, { failOn: 'error', limitInputPixels: limits.maxPixels, sequentialRead: true }).autoOrient();
    if (shrink) pipeline = pipeline.resize({ width: limits.maxSide, height: limits.maxSide, fit: 'inside', kernel: 'lanczos3' });
    decoded = await pipeline
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
  } catch (error) {
    const message = sharpMessage(error);
    if (/pixel limit/i.test(message)) throw pixelLimitError(width, height, limits);
    throw invalid(`cannot decode ${format} image (truncated or corrupt): ${message}`, error);
  }
  const { data, info } = decoded;
  if (info.channels !== 3 || data.length !== info.width * info.height * 3) {
    throw new FacedbError('internal', `decoder returned ${info.channels} channels for a ${format} image`);
  }
  const image: DecodedImage = { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length), format };
  if (shrink) image.original = { width: orientedWidth, height: orientedHeight };
  return image;
}

/**
 * Reads and decodes an image file. File-system problems are told apart from bad content:
 * a missing path is `not_found`, a directory or device is `invalid_input`.
 * Every error carries the path in its message and details.
 */
export async function readImageFile(
  path: string,
  limits: ImageLimits,
): Promise<{ bytes: Buffer; image: DecodedImage }> {
  const bytes = await readImageBytes(path, limits);
  try {
    return { bytes, image: await decodeImage(bytes, limits) };
  } catch (error) {
    if (!(error instanceof FacedbError)) throw error;
    throw new FacedbError(error.code, `${path}: ${error.message}`, {
      cause: error,
      details: { ...error.details, path },
    });
  }
}

/** Reads a file's bytes, refusing directories and files over `maxFileBytes` before reading them. */
export async function readImageBytes(path: string, limits: Pick<ImageLimits, 'maxFileBytes'>): Promise<Buffer> {
  const details = { path };
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    throw fileError(path, error);
  }
  if (info.isDirectory()) {
    throw new FacedbError('invalid_input', `${path} is a directory, not an image file`, { details });
  }
  if (!info.isFile()) throw new FacedbError('invalid_input', `${path} is not a regular file`, { details });
  if (info.size > limits.maxFileBytes) {
    throw new FacedbError(
      'image_too_large',
      `${path}: file is ${info.size} bytes, over the limit of ${limits.maxFileBytes}`,
      { details: { ...details, bytes: info.size, maxFileBytes: limits.maxFileBytes } },
    );
  }
  try {
    return await readFile(path);
  } catch (error) {
    throw fileError(path, error);
  }
}

/** Maps a file-system error to a typed one; shared with the directory scanner. */
export function fileError(path: string, error: unknown): FacedbError {
  const code = (error as NodeJS.ErrnoException).code;
  const details = { path };
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    return new FacedbError('not_found', `${path}: no such file or directory`, { cause: error, details });
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return new FacedbError('invalid_input', `${path}: permission denied`, { cause: error, details });
  }
  if (code === 'EISDIR') {
    return new FacedbError('invalid_input', `${path} is a directory, not an image file`, { cause: error, details });
  }
  return new FacedbError('internal', `${path}: ${sharpMessage(error)}`, { cause: error, details });
}

/** The decoding limits a configuration sets: the one mapping every caller uses, so no caller forgets the size cap. */
export function imageLimits(config: { maxPixels: number; maxFileBytes: number; maxImageSide?: number }): ImageLimits {
  return { maxPixels: config.maxPixels, maxFileBytes: config.maxFileBytes, ...(config.maxImageSide === undefined ? {} : { maxSide: config.maxImageSide }) };
}

/** Reads (a path) and decodes an image within `limits`: the one decode path of the services. */
export async function loadImage(source: ImageSource, limits: ImageLimits): Promise<LoadedImage> {
  if ('bytes' in source) return { bytes: source.bytes, image: await decodeImage(source.bytes, limits), path: source.path ?? null, uploadName: source.uploadName ?? null };
  const { bytes, image } = await readImageFile(source.path, limits);
  return { bytes, image, path: source.path };
}

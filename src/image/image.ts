import { FacedbError } from '../errors/errors.js';

/** A decoded, EXIF-oriented image as packed 8-bit RGB (3 channels, row-major, no padding). */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

export interface DecodedImage extends RgbImage {
  /** Container format detected from the bytes, e.g. "jpeg", "png" (never from the file name). */
  format: string;
  /**
   * The photo's own size when it was shrunk while decoding (`width`/`height` are then the smaller decoded
   * size); absent when decoded at full size. Results report boxes in these original pixels.
   */
  original?: { width: number; height: number };
}

/** An image given either as bytes (uploads) or as a path on this machine (CLI, library). */
export type ImageSource = { bytes: Uint8Array; path?: string; uploadName?: string } | { path: string };

/** An image read and decoded: its encoded bytes (for the content hash), its pixels, and its path if it has one. */
export interface LoadedImage {
  bytes: Uint8Array;
  image: DecodedImage;
  path: string | null;
  /** The file name an upload came with, if any (kept with its faces, shown in listings). */
  uploadName?: string | null;
}

/**
 * Throws invalid_image unless `image` holds width × height packed RGB pixels: what every engine checks before it
 * reads a pixel (a wrong length would read past the array or leave rows unset).
 */
export function checkRgbImage(image: RgbImage): void {
  const { width, height, data } = image;
  const sizeOk = Number.isInteger(width) && Number.isInteger(height) && width >= 1 && height >= 1;
  if (!sizeOk || !(data instanceof Uint8Array) || data.length !== width * height * 3) {
    throw new FacedbError(
      'invalid_image',
      `expected ${width}x${height} packed RGB pixels (${Number(width) * Number(height) * 3} bytes), got ${data instanceof Uint8Array ? `${data.length} bytes` : 'no byte array'}`,
    );
  }
}

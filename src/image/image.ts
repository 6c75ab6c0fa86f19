/** A decoded, EXIF-oriented image as packed 8-bit RGB (3 channels, row-major, no padding). */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

export interface DecodedImage extends RgbImage {
  /** Container format detected from the bytes, e.g. "jpeg", "png" (never from the file name). */
  format: string;
}

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

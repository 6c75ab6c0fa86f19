import sharp, { type Sharp } from 'sharp';
import type { Box } from '../core/types.js';
import type { RgbImage } from './image.js';

export interface FaceAnnotation {
  box: Box;
  /** A name, or "unknown". */
  label: string;
  /** Shown after the label, e.g. an emotion. */
  sublabel?: string;
  known: boolean;
}

const KNOWN_COLOUR = '#00c853';
const UNKNOWN_COLOUR = '#ff3d00';

/** Escapes text for SVG; also drops control characters, which XML 1.0 forbids even when escaped. */
export function escapeXml(text: string): string {
  return [...text]
    .filter((char) => {
      const code = char.codePointAt(0) ?? 0;
      return (code >= 0x20 || code === 0x09 || code === 0x0a || code === 0x0d) && code !== 0xfffe && code !== 0xffff;
    })
    .join('')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

const clamp = (value: number, low: number, high: number): number => Math.min(Math.max(value, low), high);

function faceSvg(face: FaceAnnotation, width: number, height: number, line: number, fontSize: number): string {
  const { box } = face;
  if (![box.x, box.y, box.width, box.height].every(Number.isFinite)) return '';
  // Detector boxes may poke out of the frame; keep the whole stroke visible.
  const half = line / 2;
  const x0 = clamp(box.x, half, width - half);
  const y0 = clamp(box.y, half, height - half);
  const x1 = clamp(box.x + box.width, half, width - half);
  const y1 = clamp(box.y + box.height, half, height - half);
  const colour = face.known ? KNOWN_COLOUR : UNKNOWN_COLOUR;
  const textColour = face.known ? '#000000' : '#ffffff';

  const text = face.sublabel ? `${face.label} · ${face.sublabel}` : face.label;
  // librsvg cannot measure text for us; 0.65 em per character covers bold sans-serif.
  const padding = Math.round(fontSize * 0.3);
  const labelHeight = Math.round(fontSize * 1.3);
  const labelWidth = Math.min(width, Math.ceil(text.length * fontSize * 0.65) + 2 * padding);
  const labelX = clamp(x0 - half, 0, width - labelWidth);
  // Above the box when it fits, otherwise just inside its top edge; never outside the image.
  const above = y0 - half - labelHeight;
  const labelY = clamp(above >= 0 ? above : y0 + half, 0, Math.max(0, height - labelHeight));

  return [
    `<rect x="${x0}" y="${y0}" width="${Math.max(0, x1 - x0)}" height="${Math.max(0, y1 - y0)}"`,
    ` fill="none" stroke="${colour}" stroke-width="${line}"/>`,
    `<rect x="${labelX}" y="${labelY}" width="${labelWidth}" height="${labelHeight}" fill="${colour}"/>`,
    `<text x="${labelX + padding}" y="${labelY + labelHeight / 2}" dominant-baseline="central"`,
    ` font-size="${fontSize}" fill="${textColour}">${escapeXml(text)}</text>`,
  ].join('');
}

function overlay(image: RgbImage, faces: readonly FaceAnnotation[]): Sharp {
  const { width, height } = image;
  const short = Math.min(width, height);
  const line = Math.max(2, Math.round(short / 200));
  const fontSize = Math.max(11, Math.round(short / 30));
  const svg = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"`,
    ` font-family="DejaVu Sans, Liberation Sans, Arial, Helvetica, sans-serif" font-weight="bold">`,
    ...faces.map((face) => faceSvg(face, width, height, line, fontSize)),
    '</svg>',
  ].join('');
  return sharp(image.data, { raw: { width, height, channels: 3 } }).composite([{ input: Buffer.from(svg), top: 0, left: 0 }]);
}

/**
 * Draws a box and a label for every face (green when known, red-orange when not) and returns a JPEG
 * of the same size. Boxes are in the coordinates of `image`, i.e. of the EXIF-oriented photo.
 */
export async function annotateImage(image: RgbImage, faces: readonly FaceAnnotation[]): Promise<Buffer> {
  return overlay(image, faces).jpeg({ quality: 90, chromaSubsampling: '4:4:4' }).toBuffer();
}

/** The same drawing as packed RGB of the same size (video frames: `facedb watch --annotate`). */
export async function annotateRgb(image: RgbImage, faces: readonly FaceAnnotation[]): Promise<Buffer> {
  if (faces.length === 0) return Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  return overlay(image, faces).removeAlpha().raw().toBuffer();
}

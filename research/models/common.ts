/** Shared helpers for the model experiments in research/models: the data set paths and image loading. */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { EMOTIONS, type Box, type Emotion, type EmotionScores } from '../../src/core/types.js';
import { humanEmotionScores } from '../../src/engine/human-emotion/postprocess.js';
import { detectFaces, DETECTOR_MIN_SCORE, expressionRegion, humanEmotionInput, humanEmotionProbabilities } from '../../src/engine/onnx/pipeline.js';
import type { RunNet } from '../../src/engine/onnx/runtime.js';
import type { RgbImage } from '../../src/image/image.js';

export const DATA = new URL('../../../shared/data/', import.meta.url).pathname;
export const LFW = join(DATA, 'lfw-subset');
export const FER = join(DATA, 'emotion-fer');

/** Every LFW subset photo, sorted by person then file. */
export function lfwFiles(): string[] {
  return readdirSync(LFW)
    .sort()
    .flatMap((person) =>
      readdirSync(join(LFW, person))
        .sort()
        .map((file) => join(LFW, person, file)),
    );
}

/**
 * The FER photos of every emotion class, up to `limit` per class, each with its half: 0 (A) or 1 (B) by the even /
 * odd index of its sorted file name within the class.
 */
export function ferItems(limit = Infinity): Array<{ label: Emotion; file: string; half: number }> {
  const labels = readdirSync(FER).filter((l) => (EMOTIONS as readonly string[]).includes(l)).sort() as Emotion[];
  return labels.flatMap((label) =>
    readdirSync(join(FER, label))
      .sort()
      .slice(0, limit)
      .map((file, i) => ({ label, file: join(FER, label, file), half: i % 2 })),
  );
}

/** Decodes to packed RGB; `grayscale` converts with sharp first (three equal channels). */
export async function loadRgb(file: string, grayscale = false): Promise<RgbImage> {
  const input = grayscale ? await sharp(file).grayscale().toBuffer() : file;
  const { data, info } = await sharp(input).rotate().removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data) };
}

export function argValue(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? undefined : process.argv[index + 1];
}

export function pct(x: number): string {
  return `${(100 * x).toFixed(1)} %`;
}

/**
 * The FER photos engine v5 finds a face in (the largest), each with what its emotion needs besides the expression
 * net: the expression region and Human's scores on it. `noFace` counts the others.
 */
export async function ferFacesV5(run: RunNet, limit = Infinity): Promise<{ faces: Array<{ label: Emotion; half: number; image: RgbImage; region: Box; human: EmotionScores }>; noFace: number }> {
  const faces = [];
  let noFace = 0;
  for (const item of ferItems(limit)) {
    const image = await loadRgb(item.file);
    const [face] = (await detectFaces(run, image, DETECTOR_MIN_SCORE)).sort((a, b) => b.box.width * b.box.height - a.box.width * a.box.height);
    if (!face) {
      noFace++;
      continue;
    }
    const region = expressionRegion(image, face.box);
    const human = humanEmotionScores(await humanEmotionProbabilities(run, humanEmotionInput(image, region)));
    faces.push({ label: item.label, half: item.half, image, region, human });
  }
  return { faces, noFace };
}

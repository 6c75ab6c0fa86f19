/**
 * Do small faces need their own threshold? identify's threshold is calibrated on the subset's full-size photos
 * (faces about 90 px wide); group.jpg's faces are 40–100 px. Each subset photo is shrunk (Lanczos) so its face is
 * about 55, 41 and 32 px wide and searched against the full-size subset: the threshold at a per-pair FAR of 1e-4,
 * the FAR and false rejects at identify's threshold, per half of the people. Engine v5.
 *
 *   node --import tsx research/models/small-faces.ts [--scales 1,0.6,0.45,0.35]
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { thresholdForFar } from '../../src/core/confidence.js';
import { subjectFace } from '../../src/core/subject-face.js';
import { createOnnxEngine, ONNX_CALIBRATION, ONNX_MODEL } from '../../src/engine/onnx/engine.js';
import type { RgbImage } from '../../src/image/image.js';
import { argValue, LFW } from './common.js';

const scales = (argValue('scales') ?? '1,0.6,0.45,0.35').split(',').map(Number);
const FAR = 1e-4;
const threshold = thresholdForFar(ONNX_CALIBRATION, FAR, `${ONNX_MODEL.id}@${ONNX_MODEL.version}`);

const people = readdirSync(LFW).sort();
const photos = people.flatMap((name, person) => readdirSync(join(LFW, name)).sort().map((file) => ({ person, file: join(LFW, name, file) })));
const engine = await createOnnxEngine({ workers: 2 });
const options = { minDetectionScore: 0.2, maxFaces: 20, minFaceSize: 8, needs: { embedding: true, attributes: [], crop: false } };

async function decode(file: string, scale: number): Promise<RgbImage> {
  let pipeline = sharp(file).removeAlpha().toColourspace('srgb');
  if (scale !== 1) {
    const { width = 0, height = 0 } = await sharp(file).metadata();
    pipeline = pipeline.resize(Math.round(width * scale), Math.round(height * scale), { kernel: 'lanczos3' });
  }
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data) };
}

async function subjects(scale: number): Promise<Array<{ embedding: Float32Array; width: number } | null>> {
  return Promise.all(
    photos.map(async ({ file }) => {
      const image = await decode(file, scale);
      const face = subjectFace(await engine.analyze(image, options), image.width, image.height);
      return face?.embedding ? { embedding: face.embedding, width: face.box.width } : null;
    }),
  );
}

function distance(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i]! - b[i]!) ** 2;
  return Math.sqrt(sum);
}

const gallery = await subjects(1);
const group = await decode(join(LFW, '..', 'test-images', 'group.jpg'), 1);
const groupWidths = (await engine.analyze(group, options)).map((f) => Math.round(f.box.width));
console.log(`group.jpg face widths: ${groupWidths.join(', ')} px; identify's threshold ${threshold} (per-pair FAR ${FAR})\n`);
console.log('| probe scale | median face width | half | threshold at FAR 1e-4 | FAR at identify\'s threshold | false rejects there |');
console.log('| ---: | ---: | --- | ---: | ---: | ---: |');
for (const scale of scales) {
  const probes = scale === 1 ? gallery : await subjects(scale);
  const widths = probes.flatMap((p) => (p ? [p.width] : [])).sort((a, b) => a - b);
  for (const half of [0, 1]) {
    const impostors: number[] = [];
    const genuine: number[] = [];
    probes.forEach((probe, i) => {
      if (!probe || photos[i]!.person % 2 !== half) return;
      gallery.forEach((face, j) => {
        if (!face || j === i || photos[j]!.person % 2 !== half) return;
        (photos[j]!.person === photos[i]!.person ? genuine : impostors).push(distance(probe.embedding, face.embedding));
      });
    });
    impostors.sort((a, b) => a - b);
    const atFar = impostors[Math.floor(impostors.length * FAR)]!;
    const far = impostors.filter((d) => d <= threshold).length / impostors.length;
    const frr = genuine.filter((d) => d > threshold).length / genuine.length;
    console.log(`| ${scale} | ${widths[widths.length >> 1]!.toFixed(0)} px | ${half === 0 ? 'A' : 'B'} | ${atFar.toFixed(3)} | ${far.toExponential(2)} | ${(100 * frr).toFixed(2)} % |`);
  }
}
await engine.close();

/**
 * One face-api analysis, job by job: detect (detect.ts) → 68 landmarks → the descriptor and the aligned crop
 * (describe.ts) and age, gender and emotion (attributes.ts), each only when the caller's `needs` ask for it. Runs
 * inside an inference worker (see worker.ts); the models come from loader.ts, the one module that loads them.
 */
import { FacedbError, toFacedbError } from '../../errors/errors.js';
import { checkRgbImage, type RgbImage } from '../../image/image.js';
import type { AnalyzeOptions, FaceAnalysis } from '../engine.js';
import { agesAndGenders, emotionCrop, ensembleEmotions } from './attributes.js';
import { alignedCropJpeg, descriptors, imageLandmarks, landmarks68 } from './describe.js';
import { detectFaces, imageBox } from './detect.js';
import { loadModels, type Loaded } from './loader.js';

export interface FaceApiRuntime {
  analyze(image: RgbImage, options: AnalyzeOptions): Promise<FaceAnalysis[]>;
  /** Tensors alive in this thread's tfjs engine, to check that analyze leaks none. */
  tensorCount(): number;
}

/** Loads the models once per thread (later calls share them) and returns the analysis over them. */
export async function loadFaceApiRuntime(): Promise<FaceApiRuntime> {
  try {
    const loaded = await loadModels();
    return {
      analyze: (image, options) => analyze(loaded, image, options),
      tensorCount: () => loaded.tfjs.memory().numTensors,
    };
  } catch (error) {
    throw new FacedbError('internal', `could not load the face models: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

async function analyze(loaded: Loaded, image: RgbImage, options: AnalyzeOptions): Promise<FaceAnalysis[]> {
  checkRgbImage(image);
  try {
    const { input, pass, faces } = await detectFaces(loaded, image, options);
    try {
      if (faces.length === 0) return [];
      const { needs } = options;
      const landmarkSets = await landmarks68(loaded, input, faces);
      const embeddings = needs.embedding ? await descriptors(loaded, input, landmarkSets) : undefined;
      const wanted = needs.attributes;
      // face-api's one age-and-gender net answers both; it runs when either is asked for.
      const ageGenders = wanted.includes('age') || wanted.includes('gender') ? await agesAndGenders(loaded, input, landmarkSets) : undefined;
      // The emotion nets get their own FER-style crop of the caller's pixels (not the retry pass's padded,
      // contrast-stretched copy), framed by the detection box mapped back to the image, unclamped.
      const emotions = wanted.includes('emotion') ? await ensembleEmotions(loaded, faces.map((face) => emotionCrop(image, imageBox(pass, face)))) : undefined;
      if (landmarkSets.length !== faces.length) throw new Error('face-api returned fewer landmark sets than faces');
      return await Promise.all(
        faces.map(async (face, i): Promise<FaceAnalysis> => {
          const landmarks = imageLandmarks(pass, landmarkSets[i]!);
          const analysis: FaceAnalysis = { box: face.box, detectionScore: face.score, landmarks };
          if (embeddings) analysis.embedding = required(embeddings[i], 'descriptors');
          if (wanted.length > 0) {
            const ageGender = ageGenders ? required(ageGenders[i], 'ages and genders') : undefined;
            analysis.attributes = {
              ...(emotions ? { emotion: required(emotions[i], 'emotions') } : {}),
              ...(ageGender && wanted.includes('age') ? { age: ageGender.age } : {}),
              ...(ageGender && wanted.includes('gender') ? { gender: ageGender.gender, genderProbability: ageGender.genderProbability } : {}),
            };
          }
          if (needs.crop) analysis.alignedCrop = await alignedCropJpeg(image, landmarks);
          return analysis;
        }),
      );
    } finally {
      input.dispose();
    }
  } catch (error) {
    throw toFacedbError(error);
  }
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`face-api returned fewer ${what} than faces`);
  return value;
}

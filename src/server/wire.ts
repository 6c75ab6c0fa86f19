import { z } from 'zod';
import { EMOTIONS, GENDERS } from '../core/types.js';
import { ERROR_CODES } from '../errors/errors.js';
import { OPERATING_POINT_SOURCES } from '../services/operating-point-source.js';
import { ENROLL_STATUSES } from '../services/results.js';
import type {
  AnalyzeResult,
  Candidate,
  DetectResult,
  EnrollOutcome,
  FaceAttributes,
  IdentifiedFace,
  IdentifyResult,
  RepresentResult,
  VerifyResult,
} from '../services/results.js';
import type { Face, Person } from '../store/store.js';

/**
 * The HTTP API's JSON (snake_case) and its mapping to and from the service results (camelCase).
 * The server and `facedb client` both go through here, and the OpenAPI document is generated
 * from these schemas, so the three cannot drift apart.
 */

// ---------------------------------------------------------------- responses

const box = z.object({ x: z.number(), y: z.number(), width: z.number(), height: z.number() });
const image = z.object({ width: z.number().int(), height: z.number().int(), format: z.string() });
const emotion = z.object({
  dominant: z.enum(EMOTIONS),
  scores: z.object(Object.fromEntries(EMOTIONS.map((e) => [e, z.number()])) as Record<(typeof EMOTIONS)[number], z.ZodNumber>),
});
const detected = z.object({ box, detection_score: z.number() });
const onlyWhenAsked = (attribute: string): string => `present when the request asked for ${attribute} (attributes; by default it does)`;
const attributes = detected.extend({
  emotion: emotion.optional().describe(onlyWhenAsked('emotion')),
  age: z.number().optional().describe(onlyWhenAsked('age')),
  gender: z.enum(GENDERS).optional().describe(onlyWhenAsked('gender')),
  gender_probability: z.number().optional().describe(onlyWhenAsked('gender')),
});
const confidence = z
  .number()
  .min(0)
  .max(1)
  .nullable()
  .describe(
    'calibrated probability (0..1) that the probe is this person (identify: accounting for the number of people enrolled) or that the two faces are the same person (verify), held to the decision: below 0.5 beyond the threshold; null when the model has no calibration',
  );
const candidate = z.object({ person_id: z.number().int(), person: z.string(), distance: z.number(), confidence });
const identifiedFace = attributes.extend({
  match: candidate.extend({ threshold: z.number() }).nullable(),
  candidates: z.array(candidate),
});
const tookMs = z.number().describe('server time spent on the request, in milliseconds');

const thresholdSource = z.enum(OPERATING_POINT_SOURCES).describe("where the threshold came from: the request, the server's configuration, this gallery's own calibration (facedb evaluate --apply), the engine's calibration, the model's default");
export const identifyResponse = z.object({ image, threshold: z.number(), threshold_source: thresholdSource, took_ms: tookMs, faces: z.array(identifiedFace) });
export const verifyResponse = z.object({
  verified: z.boolean(),
  distance: z.number(),
  confidence,
  threshold: z.number(),
  threshold_source: thresholdSource,
  faces: z.tuple([attributes, attributes]),
  took_ms: tookMs,
});
export const analyzeResponse = z.object({ image, faces: z.array(attributes), took_ms: tookMs });
export const detectResponse = z.object({ image, faces: z.array(detected), took_ms: tookMs });
export const representResponse = z.object({
  image,
  model: z.object({ id: z.string(), version: z.string() }),
  faces: z.array(detected.extend({ embedding: z.array(z.number()) })),
  took_ms: tookMs,
});
export const person = z.object({
  id: z.number().int(),
  name: z.string(),
  face_count: z.number().int(),
  created_at: z.string(),
});
export const peoplePage = z.object({
  items: z.array(person),
  total: z.number().int(),
  limit: z.number().int(),
  offset: z.number().int(),
});
const enrolledFace = detected.extend({ id: z.number().int(), created_at: z.string(), image_url: z.string() });
export const personDetail = person.extend({ faces: z.array(enrolledFace) });
export const personRemoved = z.object({ removed: z.literal(true), faces_removed: z.number().int() });
export const faceRemoved = z.object({
  removed: z.literal(true),
  named: z.boolean().describe("false: the face belonged to nobody yet (an unnamed face, in a cluster or not)"),
});
export const enrollResponse = z.object({
  outcomes: z.array(
    z.object({
      status: z.enum(ENROLL_STATUSES),
      face_id: z.number().int().optional(),
      faces_found: z.number().int(),
      message: z.string().optional(),
    }),
  ),
});
export const errorEnvelope = z.object({ error: z.object({ code: z.enum(ERROR_CODES), message: z.string() }) });
export const health = z.object({ status: z.literal('ok') });
export const readiness = z.object({
  status: z.enum(['ready', 'not_ready']),
  models: z.boolean(),
  db: z.boolean(),
  storage: z.string().optional().describe('when db is false: the storage fault (full, read_only, io, gone, unreachable)'),
  calibration: z
    .object({ source: z.enum(OPERATING_POINT_SOURCES), text: z.string() })
    .optional()
    .describe("where identify's and verify's default threshold comes from (this gallery's own calibration after facedb evaluate --apply); once the models are loaded"),
});

export type IdentifyWire = z.infer<typeof identifyResponse>;
export type VerifyWire = z.infer<typeof verifyResponse>;
export type AnalyzeWire = z.infer<typeof analyzeResponse>;
export type DetectWire = z.infer<typeof detectResponse>;
export type RepresentWire = z.infer<typeof representResponse>;
export type PersonWire = z.infer<typeof person>;
export type PersonDetailWire = z.infer<typeof personDetail>;
export type EnrollWire = z.infer<typeof enrollResponse>;
export type ErrorWire = z.infer<typeof errorEnvelope>;

// ---------------------------------------------------------------- requests
// In request-wire.ts: only the server reads requests, and their limits depend on its configuration.

// ---------------------------------------------------------------- service → wire

/** The box and the attributes the face carries; those not asked for are left out, not null. */
function attributesToWire(face: FaceAttributes): z.infer<typeof attributes> {
  return {
    box: face.box,
    detection_score: face.detectionScore,
    ...(face.emotion === undefined ? {} : { emotion: face.emotion }),
    ...(face.age === undefined ? {} : { age: face.age }),
    ...(face.gender === undefined ? {} : { gender: face.gender }),
    ...(face.genderProbability === undefined ? {} : { gender_probability: face.genderProbability }),
  };
}

function candidateToWire(c: Candidate): z.infer<typeof candidate> {
  return { person_id: c.personId, person: c.person, distance: c.distance, confidence: c.confidence };
}

export function identifyToWire(result: IdentifyResult, took: number): IdentifyWire {
  return {
    image: result.image,
    threshold: result.threshold,
    threshold_source: result.thresholdSource,
    took_ms: took,
    faces: result.faces.map((face) => ({
      ...attributesToWire(face),
      match: face.match && { ...candidateToWire(face.match), threshold: face.match.threshold },
      candidates: face.candidates.map(candidateToWire),
    })),
  };
}

export function verifyToWire(result: VerifyResult, took: number): VerifyWire {
  return {
    verified: result.verified,
    distance: result.distance,
    confidence: result.confidence,
    threshold: result.threshold,
    threshold_source: result.thresholdSource,
    faces: [attributesToWire(result.faces[0]), attributesToWire(result.faces[1])],
    took_ms: took,
  };
}

export function analyzeToWire(result: AnalyzeResult, took: number): AnalyzeWire {
  return { image: result.image, faces: result.faces.map(attributesToWire), took_ms: took };
}

export function detectToWire(result: DetectResult, took: number): DetectWire {
  return {
    image: result.image,
    faces: result.faces.map((f) => ({ box: f.box, detection_score: f.detectionScore })),
    took_ms: took,
  };
}

export function representToWire(result: RepresentResult, took: number): RepresentWire {
  return {
    image: result.image,
    model: result.model,
    faces: result.faces.map((f) => ({ box: f.box, detection_score: f.detectionScore, embedding: f.embedding })),
    took_ms: took,
  };
}

export function personToWire(p: Person): PersonWire {
  return { id: p.id, name: p.name, face_count: p.faceCount, created_at: p.createdAt };
}

export function personDetailToWire(p: Person, faces: Face[]): PersonDetailWire {
  return {
    ...personToWire(p),
    faces: faces.map((f) => ({
      id: f.id,
      box: f.box,
      detection_score: f.detectionScore,
      created_at: f.createdAt,
      image_url: `/v1/faces/${f.id}/image`,
    })),
  };
}

export function outcomeToWire(outcome: EnrollOutcome): EnrollWire['outcomes'][number] {
  return {
    status: outcome.status,
    ...(outcome.faceId === undefined ? {} : { face_id: outcome.faceId }),
    faces_found: outcome.facesFound,
    ...(outcome.message === undefined ? {} : { message: outcome.message }),
  };
}

// ---------------------------------------------------------------- wire → service (client)

function attributesFromWire(face: z.infer<typeof attributes>): FaceAttributes {
  return {
    box: face.box,
    detectionScore: face.detection_score,
    ...(face.emotion === undefined ? {} : { emotion: face.emotion }),
    ...(face.age === undefined ? {} : { age: face.age }),
    ...(face.gender === undefined ? {} : { gender: face.gender }),
    ...(face.gender_probability === undefined ? {} : { genderProbability: face.gender_probability }),
  };
}

function candidateFromWire(c: z.infer<typeof candidate>): Candidate {
  return { personId: c.person_id, person: c.person, distance: c.distance, confidence: c.confidence };
}

export function identifyFromWire(wire: IdentifyWire): IdentifyResult {
  const faces: IdentifiedFace[] = wire.faces.map((face) => ({
    ...attributesFromWire(face),
    match: face.match && { ...candidateFromWire(face.match), threshold: face.match.threshold },
    candidates: face.candidates.map(candidateFromWire),
  }));
  return { image: wire.image, threshold: wire.threshold, thresholdSource: wire.threshold_source, faces };
}

export function verifyFromWire(wire: VerifyWire): VerifyResult {
  return {
    verified: wire.verified,
    distance: wire.distance,
    confidence: wire.confidence,
    threshold: wire.threshold,
    thresholdSource: wire.threshold_source,
    faces: [attributesFromWire(wire.faces[0]), attributesFromWire(wire.faces[1])],
  };
}

export function analyzeFromWire(wire: AnalyzeWire): AnalyzeResult {
  return { image: wire.image, faces: wire.faces.map(attributesFromWire) };
}

export function representFromWire(wire: RepresentWire): RepresentResult {
  return {
    image: wire.image,
    model: wire.model,
    faces: wire.faces.map((f) => ({ box: f.box, detectionScore: f.detection_score, embedding: f.embedding })),
  };
}

export function outcomeFromWire(wire: EnrollWire['outcomes'][number], path: string, personName: string): EnrollOutcome {
  return {
    path,
    person: personName,
    status: wire.status,
    facesFound: wire.faces_found,
    ...(wire.face_id === undefined ? {} : { faceId: wire.face_id }),
    ...(wire.message === undefined ? {} : { message: wire.message }),
  };
}

import { z } from 'zod';
import { FAR_RANGE, type FacedbConfig } from '../config/config.js';
import { ATTRIBUTES_USAGE } from '../core/attributes.js';
import { canonicalName, MAX_PERSON_NAME_LENGTH } from '../core/names.js';
import { FACE_ATTRIBUTES } from '../core/types.js';
import { DEFAULT_SEARCH_TOP, MAX_SEARCH_TOP } from '../services/face-search.js';

/*
 * The HTTP API's requests: the one definition of what each route accepts. The handlers parse with these
 * schemas (strict: unknown fields are refused), the upload reader and JSON parser take their image limits
 * from them, and the OpenAPI document is generated from them, so what is documented is what is enforced.
 * Limits that come from the configuration (max_faces, the defaults) are filled in per server.
 */

/** Photos one enroll request takes. */
export const MAX_IMAGES_PER_REQUEST = 20;
/** Highest id a path accepts (ids are positive SQLite/PostgreSQL integers). */
export const MAX_ID = 2 ** 31 - 1;

/**
 * The face attributes to compute: text `emotion,age` (query string, multipart field, JSON) or a JSON array; `none` (or
 * an empty array) for none. Left out (or blank): every attribute. The words are FACE_ATTRIBUTES', declared once.
 */
const faceAttributes = z
  .preprocess(
    (value) => {
      if (value === null || (typeof value === 'string' && value.trim() === '')) return undefined;
      if (typeof value !== 'string') return value;
      const words = value.split(',').map((word) => word.trim().toLowerCase());
      return words.length === 1 && words[0] === 'none' ? [] : words;
    },
    z.array(z.enum(FACE_ATTRIBUTES, { error: (issue) => `unknown attribute ${JSON.stringify(issue.input)}: give ${ATTRIBUTES_USAGE}` })).optional(),
  )
  .meta({
    description: `face attributes to compute and report: ${ATTRIBUTES_USAGE}; as text (emotion,age) or a JSON array. Left out: all of them. Each one left out skips its nets (faster)`,
    example: ['emotion'],
  });

/** Text (query string, multipart field) read as a number; blank text and JSON null mean "not given". */
const toNumber = (value: unknown): unknown =>
  value === null ? undefined : typeof value === 'string' ? (value.trim() === '' ? undefined : Number(value)) : value;
export const fromText = <T extends z.ZodType>(schema: T) => z.preprocess(toNumber, schema);
/** Text read as a boolean ('true' / 'false'); blank text and JSON null mean "not given". */
const toBoolean = (value: unknown): unknown => (value === 'true' ? true : value === 'false' ? false : value === null || value === '' ? undefined : value);

/** An option a caller may leave out (empty, or null in JSON); shown empty in the docs' "Try it out". */
const optional = <T extends z.ZodType>(schema: T, description: string) =>
  fromText(schema.optional()).meta({ description, nullable: true, example: null });

const base64Image = z.string().describe('a photo, base64-encoded (a data: URL prefix is allowed)');

/** How many images each image field takes, keyed by the field's schema: declared once, with the field. */
const IMAGE_LIMITS = new WeakMap<z.ZodType, number>();

/** An image field: one photo, or up to `max` (multipart: the field repeated; JSON: a base64 string or an array of them). */
function imageField(max: number): z.ZodType {
  const schema =
    max === 1
      ? base64Image
      : z.union([base64Image, z.array(base64Image).min(1).max(max)]).describe(`1 to ${max} photos, base64-encoded`);
  IMAGE_LIMITS.set(schema, max);
  return schema;
}

/** The image fields of a request schema and how many images each takes (empty when it takes none). */
export function imageLimitsOf(schema: z.ZodType | undefined): Record<string, number> {
  const limits: Record<string, number> = {};
  if (!(schema instanceof z.ZodObject)) return limits;
  for (const [key, field] of Object.entries<z.ZodType>(schema.shape)) {
    const max = IMAGE_LIMITS.get(field);
    if (max !== undefined) limits[key] = max;
  }
  return limits;
}

/** The same schema without its image fields: the options a route reads from fields and the query string. */
export function optionsOf<T extends z.ZodObject>(schema: T): z.ZodObject {
  const images = Object.keys(imageLimitsOf(schema));
  return schema.omit(Object.fromEntries(images.map((key) => [key, true])) as never).strict();
}

/** The request schemas of one server: the bounds and defaults that depend on its configuration. */
export function requestSchemas(config: FacedbConfig) {
  const defaultMaxFaces = Math.min(config.maxFaces, config.maxFacesPerImage);
  const faceLimits = {
    max_faces: fromText(z.number().int().min(1).max(config.maxFacesPerImage).default(defaultMaxFaces)).describe(
      'most faces reported, largest first',
    ),
    min_face_size: fromText(z.number().int().min(0).max(10_000).default(config.minFaceSize)).describe(
      'smallest face reported: its box side, in pixels',
    ),
  };
  const operatingPoint = {
    threshold: optional(
      z.number().positive().max(4),
      'distance at or below which two faces match; leave empty for the model calibrated threshold (not with far)',
    ),
    far: optional(
      z.number().min(FAR_RANGE.min).max(FAR_RANGE.max),
      'target false-accept rate (e.g. 0.001) instead of a threshold: the threshold is taken from the model calibration',
    ),
  };
  const topK = fromText(z.number().int().min(1).max(100).default(config.topK)).describe('candidates listed per face');
  const detection = {
    detect: z
      .preprocess(toBoolean, z.boolean().default(true))
      .describe('false: the photo already is a face crop; skip detection and take the whole image as one face'),
  };
  const attributeSet = { attributes: faceAttributes };
  return {
    identify: z.object({ image: imageField(1), top_k: topK, ...operatingPoint, ...faceLimits, ...detection, ...attributeSet }).strict(),
    /** detect, represent */
    faces: z.object({ image: imageField(1), ...faceLimits, ...detection }).strict(),
    analyze: z.object({ image: imageField(1), ...faceLimits, ...detection, ...attributeSet }).strict(),
    verify: z.object({ image_a: imageField(1), image_b: imageField(1), ...operatingPoint, ...detection, ...attributeSet }).strict(),
    enroll: z.object({ image: imageField(MAX_IMAGES_PER_REQUEST) }).strict(),
    search: z
      .object({
        image: imageField(1),
        unnamed: z
          .preprocess(toBoolean, z.boolean().default(false))
          .describe('true: only faces nobody named yet'),
        top: fromText(z.number().int().min(1).max(MAX_SEARCH_TOP).default(DEFAULT_SEARCH_TOP)).describe('nearest stored faces listed per face'),
        ...faceLimits,
      })
      .strict(),
  };
}

export type RequestSchemas = ReturnType<typeof requestSchemas>;

/**
 * A person's name as the API takes it, with the stores' own length limit (core/names.ts) so the document tells the
 * truth. Counted as the stores count it (code points of the normalised name), which is also what JSON Schema's
 * maxLength means; zod's .max would count UTF-16 units and refuse names of emoji or rare CJK the stores accept.
 */
export const personName = z
  .string()
  .trim()
  .min(1)
  .refine((name) => [...canonicalName(name)].length <= MAX_PERSON_NAME_LENGTH, `person name is longer than ${MAX_PERSON_NAME_LENGTH} characters`)
  .meta({ maxLength: MAX_PERSON_NAME_LENGTH, example: 'Ada Lovelace' });
export const createPersonJson = z.object({ name: personName }).strict();
export const pageQuery = z
  .object({
    limit: fromText(z.number().int().min(1).max(1000).default(50)),
    offset: fromText(z.number().int().min(0).max(MAX_ID).default(0)),
  })
  .strict();
/** The largest gallery file POST /v1/import takes (the file with --photos of a large gallery may need the CLI). */
export const IMPORT_MAX_BYTES = 1024 ** 3;
export const exportQuery = z
  .object({ photos: z.preprocess(toBoolean, z.boolean().default(false)).describe('also the photo bytes facedb keeps (of uploads)') })
  .strict();
export const idParams = z.object({ id: fromText(z.number().int().min(1).max(MAX_ID)) }).strict();

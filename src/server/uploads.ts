import type { FastifyRequest } from 'fastify';
import type { FacedbConfig } from '../config/config.js';
import { FacedbError } from '../errors/errors.js';

/** A request's images (bytes only: a request never names a file on the server) and its other fields. */
export interface Upload {
  images: Map<string, Uint8Array[]>;
  /** Each image's file name as sent (multipart), by field and position; absent for base64 JSON. */
  fileNames: Map<string, Array<string | undefined>>;
  fields: Record<string, unknown>;
}

/** Longest upload file name kept; longer ones are cut. */
const MAX_FILE_NAME = 255;

/** A multipart file name as kept: its last path segment, without control characters, at most MAX_FILE_NAME long. */
function cleanFileName(name: string | undefined): string | undefined {
  // eslint-disable-next-line no-control-regex
  const base = (name ?? '').split(/[\\/]/).pop()!.replace(/[\u0000-\u001f\u007f]/g, '').trim();
  return base === '' ? undefined : [...base].slice(0, MAX_FILE_NAME).join('');
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function fromBase64(value: unknown, field: string): Uint8Array {
  if (typeof value !== 'string') throw new FacedbError('validation_failed', `${field} must be a base64 string`);
  const text = value.replace(/^data:[^,]*;base64,/, '').replace(/\s+/g, '');
  if (!BASE64.test(text) || text.length % 4 === 1) throw new FacedbError('invalid_image', `${field} is not valid base64`);
  return Buffer.from(text, 'base64');
}

/**
 * The multipart parser's own failures (truncated body, missing or wrong boundary, malformed part headers)
 * are the client's framing, not a server fault. Our typed errors and the plugin's coded limits pass through.
 */
function framingError(error: unknown): unknown {
  if (error instanceof FacedbError) return error;
  if (typeof (error as { code?: unknown }).code === 'string' && (error as { code: string }).code.startsWith('FST_')) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new FacedbError('validation_failed', `malformed multipart body: ${message}`, { cause: error });
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route's image fields and how many images each takes, from its request schema (docs.ts routeOptions). */
    upload?: Readonly<Record<string, number>>;
  }
}

function tooMany(field: string, max: number): FacedbError {
  return new FacedbError('validation_failed', max === 1 ? `send exactly one image in "${field}"` : `at most ${max} images in "${field}"`);
}

function unknownImageField(field: string, limits: Readonly<Record<string, number>>): FacedbError {
  const known = Object.keys(limits).map((name) => `"${name}"`).join(', ');
  return new FacedbError('validation_failed', `unknown file field "${field}"; this route takes ${known || 'no files'}`);
}

/**
 * Reads images from multipart file fields, or from base64 strings in a JSON body, under the image fields the
 * route declares (`config.upload`). Every image past a field's limit, and every file in a field the route does
 * not take, is refused as soon as it is seen: before its bytes are buffered (multipart), or while the body is
 * still arriving (JSON, json-body.ts). Other multipart fields and JSON keys come back as fields.
 */
export async function readUpload(request: FastifyRequest, config: FacedbConfig): Promise<Upload> {
  const limits = request.routeOptions.config.upload ?? {};
  const images = new Map<string, Uint8Array[]>();
  /** The list a new image of `field` goes to, refusing it when the route does not take it or has enough. */
  const slot = (field: string): Uint8Array[] => {
    const max = limits[field];
    if (max === undefined) throw unknownImageField(field, limits);
    const list = images.get(field) ?? [];
    if (list.length >= max) throw tooMany(field, max);
    images.set(field, list);
    return list;
  };
  const fields: Record<string, unknown> = {};
  const fileNames = new Map<string, Array<string | undefined>>();
  if (request.isMultipart()) {
    // Each file is capped by the multipart limits; the running total keeps many files within the body limit.
    let total = 0;
    try {
      for await (const part of request.parts()) {
        if (part.type === 'file') {
          const list = slot(part.fieldname);
          const bytes = await part.toBuffer();
          total += bytes.length;
          if (total > config.bodyLimitBytes) {
            throw new FacedbError('image_too_large', `uploads exceed the request limit of ${config.bodyLimitBytes} bytes`);
          }
          list.push(bytes);
          fileNames.set(part.fieldname, [...(fileNames.get(part.fieldname) ?? []), cleanFileName(part.filename)]);
        } else {
          fields[part.fieldname] = part.value;
        }
      }
    } catch (error) {
      throw framingError(error);
    }
    return { images, fileNames, fields };
  }
  const body = request.body;
  if (body === undefined || body === null) return { images, fileNames, fields };
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new FacedbError('validation_failed', 'the JSON body must be an object');
  }
  for (const [key, value] of Object.entries(body)) {
    const max = limits[key];
    if (max === undefined) fields[key] = value;
    else if (Array.isArray(value) && max > 1) {
      // The JSON parser already refused an array over the limit; this holds for bodies from other parsers too.
      if (value.length > max) throw tooMany(key, max);
      value.forEach((item, i) => slot(key).push(fromBase64(item, `${key}[${i}]`)));
    } else slot(key).push(fromBase64(value, key));
  }
  return { images, fileNames, fields };
}

/** The images a route needs under `field` (at least one; the reader held them to the field's limit). */
export function imagesOf(upload: Upload, field: string): Uint8Array[] {
  const files = upload.images.get(field) ?? [];
  if (files.length === 0) {
    throw new FacedbError('validation_failed', `the image is missing: send it as multipart file field "${field}" or base64 JSON key "${field}"`);
  }
  return files;
}

/** The one image a route needs under `field`. */
export function singleImage(upload: Upload, field: string): Uint8Array {
  const files = imagesOf(upload, field);
  if (files.length > 1) throw tooMany(field, 1);
  return files[0]!;
}

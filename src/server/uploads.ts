import type { FastifyRequest } from 'fastify';
import type { FacedbConfig } from '../config/config.js';
import { FacedbError } from '../errors/errors.js';

/** A request's images (bytes only: a request never names a file on the server) and its other fields. */
export interface Upload {
  images: Map<string, Uint8Array[]>;
  fields: Record<string, unknown>;
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

/** JSON keys holding images: one base64 string, or an array of them. */
export type ImageFields = Record<string, 'one' | 'many'>;

/**
 * Reads images from multipart file fields, or from base64 strings under `imageFields` in a JSON body.
 * Other multipart fields and JSON keys come back as fields.
 */
export async function readUpload(request: FastifyRequest, imageFields: ImageFields, config: FacedbConfig): Promise<Upload> {
  const images = new Map<string, Uint8Array[]>();
  const add = (field: string, bytes: Uint8Array): void => {
    images.set(field, [...(images.get(field) ?? []), bytes]);
  };
  const fields: Record<string, unknown> = {};
  if (request.isMultipart()) {
    // Each file is capped by the multipart limits; the running total keeps many files within the body limit.
    let total = 0;
    try {
      for await (const part of request.parts()) {
        if (part.type === 'file') {
          const bytes = await part.toBuffer();
          total += bytes.length;
          if (total > config.bodyLimitBytes) {
            throw new FacedbError('image_too_large', `uploads exceed the request limit of ${config.bodyLimitBytes} bytes`);
          }
          add(part.fieldname, bytes);
        } else {
          fields[part.fieldname] = part.value;
        }
      }
    } catch (error) {
      throw framingError(error);
    }
    return { images, fields };
  }
  const body = request.body;
  if (body === undefined || body === null) return { images, fields };
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new FacedbError('validation_failed', 'the JSON body must be an object');
  }
  for (const [key, value] of Object.entries(body)) {
    const kind = imageFields[key];
    if (kind === undefined) fields[key] = value;
    else if (kind === 'one') add(key, fromBase64(value, key));
    else if (Array.isArray(value)) value.forEach((item, i) => add(key, fromBase64(item, `${key}[${i}]`)));
    else throw new FacedbError('validation_failed', `${key} must be an array of base64 strings`);
  }
  return { images, fields };
}

/** The one image a route needs under `field`, refusing none or several. */
export function singleImage(upload: Upload, field: string): Uint8Array {
  const files = upload.images.get(field) ?? [];
  const [first] = files;
  if (!first) throw new FacedbError('validation_failed', `the image is missing: send it as multipart file field "${field}" or base64 JSON key "${field}"`);
  if (files.length > 1) throw new FacedbError('validation_failed', `send exactly one image in "${field}"`);
  return first;
}

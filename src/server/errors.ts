import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ZodError } from 'zod';
import { FacedbError, type ErrorCode } from '../errors/errors.js';
import type { ErrorWire } from './wire.js';

/** The only place error codes map to HTTP statuses (the CLI's counterpart is errors/exit-codes.ts). */
const HTTP_STATUS: Record<ErrorCode, number> = {
  invalid_image: 400,
  invalid_input: 400,
  validation_failed: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  model_mismatch: 409,
  conflict: 409,
  image_too_large: 413,
  unsupported_media_type: 415,
  no_face: 422,
  rate_limited: 429,
  request_timeout: 408,
  insufficient_data: 422,
  internal: 500,
  overloaded: 503,
  storage_unavailable: 503,
  unreachable: 502,
};

export function httpStatusFor(code: ErrorCode): number {
  return HTTP_STATUS[code];
}

/** Seconds a client is told to wait after 503 overloaded. */
const RETRY_AFTER_SECONDS = 1;

/** Fastify and plugin error codes that are really the client's fault, with the stable code they become. */
const FRAMEWORK_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'image_too_large',
  FST_REQ_FILE_TOO_LARGE: 'image_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_INVALID_MULTIPART_CONTENT_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_JSON_BODY: 'validation_failed',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'validation_failed',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'validation_failed',
  FST_FILES_LIMIT: 'validation_failed',
  FST_PARTS_LIMIT: 'validation_failed',
  FST_FIELDS_LIMIT: 'validation_failed',
  FST_PROTO_VIOLATION: 'validation_failed',
};

function zodMessage(error: ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length > 0 ? `${issue.path.join('.')}: ` : ''}${issue.message}`)
    .join('; ');
}

/**
 * What a client is told about a storage fault: its kind, never the store's own message (which names the
 * database file or server, for the operator's log and the CLI).
 */
const STORAGE_FAULTS: Record<string, string> = {
  full: 'the gallery storage is full',
  read_only: 'the gallery storage is read-only',
  io: 'the gallery storage has an I/O error',
  gone: 'the gallery database cannot be read (deleted, moved or damaged)',
  unreachable: 'the gallery database cannot be reached',
};

/** Turns anything thrown while serving a request into a typed error whose message is safe to show. */
export function toHttpError(error: unknown): FacedbError {
  if (error instanceof FacedbError) {
    if (error.code === 'internal') return new FacedbError('internal', 'internal error', { cause: error });
    if (error.code === 'storage_unavailable') {
      const fault = error.details?.fault;
      const message = (typeof fault === 'string' ? STORAGE_FAULTS[fault] : undefined) ?? 'the gallery storage is unavailable';
      return new FacedbError('storage_unavailable', `${message}; try again later`, { cause: error, details: error.details });
    }
    return error;
  }
  if (error instanceof ZodError) return new FacedbError('validation_failed', zodMessage(error), { cause: error });
  const framework = error as Partial<FastifyError>;
  const mapped = framework.code === undefined ? undefined : FRAMEWORK_CODES[framework.code];
  if (mapped) return new FacedbError(mapped, framework.message ?? mapped, { cause: error });
  const status = framework.statusCode ?? 500;
  if (error instanceof SyntaxError && status === 400) {
    return new FacedbError('validation_failed', `invalid JSON: ${error.message}`, { cause: error });
  }
  // @fastify/static refuses paths with NUL or traversal with 403: a refusal, not a malformed request.
  if (status === 403) return new FacedbError('forbidden', 'forbidden path', { cause: error });
  if (status === 404) return new FacedbError('not_found', 'not found', { cause: error });
  if (status === 413) return new FacedbError('image_too_large', 'request body too large', { cause: error });
  if (status === 415) return new FacedbError('unsupported_media_type', 'unsupported content type', { cause: error });
  if (status === 503) return new FacedbError('overloaded', 'the server is shutting down or busy', { cause: error });
  if (status >= 400 && status < 500) {
    return new FacedbError('validation_failed', framework.message ?? 'bad request', { cause: error });
  }
  return new FacedbError('internal', 'internal error', { cause: error });
}

export function envelope(error: FacedbError): ErrorWire {
  return { error: { code: error.code, message: error.message } };
}

export function sendError(reply: FastifyReply, error: FacedbError): FastifyReply {
  if (error.code === 'overloaded') reply.header('retry-after', String(RETRY_AFTER_SECONDS));
  return reply.code(httpStatusFor(error.code)).type('application/json; charset=utf-8').send(envelope(error));
}

/** One envelope for every failure, Fastify's own included; logs carry the code, never a stack. */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((raw: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const error = toHttpError(raw);
    const status = httpStatusFor(error.code);
    const cause = error.cause instanceof Error ? error.cause.message : undefined;
    if (status >= 500 && error.code !== 'overloaded') request.log.error({ code: error.code, cause }, 'request failed');
    else request.log.info({ code: error.code, message: error.message }, 'request refused');
    return sendError(reply, error);
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, new FacedbError('not_found', `no route ${request.method} ${request.url.split('?')[0] ?? ''}`)),
  );
}

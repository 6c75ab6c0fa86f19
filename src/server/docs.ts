import type { FastifySchema } from 'fastify';
import { z } from 'zod';
import type { RouteScope } from './auth.js';
import { imageLimitsOf } from './request-wire.js';
import { errorEnvelope } from './wire.js';

/**
 * OpenAPI documentation for a route, generated from the same zod schemas that validate requests and
 * shape responses. Fastify's own validation and serialization are switched off (app.ts): these schemas
 * only describe, and the handlers parse with the very same ones.
 */
export interface RouteDoc {
  summary: string;
  tags: string[];
  scope: RouteScope;
  /**
   * The request body as JSON (image fields as base64). A body with image fields (request-wire.ts) is also
   * taken as multipart, the images as file fields and the rest as text fields.
   */
  body?: z.ZodObject;
  /** A body that is a file of its own (not JSON or multipart), e.g. a gallery file to import. */
  rawBody?: { contentType: string; description: string };
  query?: z.ZodObject;
  params?: z.ZodObject;
  responses: Record<number, z.ZodType | { description: string; contentType?: string }>;
  /** More to say than the summary (after the scope note). */
  description?: string;
  /** A WebSocket route: its subprotocol and the messages the server sends (shown as `x-websocket`). */
  websocket?: { subprotocol: string; client: string; server: z.ZodType };
}

const jsonSchema = (schema: z.ZodType): Record<string, unknown> => {
  const generated: Record<string, unknown> = z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'output', unrepresentable: 'any' });
  delete generated.$schema;
  return generated;
};

/**
 * A request schema as JSON Schema. Generated from the parsed (output) side, which carries the bounds and
 * defaults; a field is required only when leaving it out is refused.
 */
function requestSchema(schema: z.ZodObject): Record<string, unknown> {
  const generated = jsonSchema(schema);
  const shape = schema.shape as Record<string, z.ZodType>;
  const required = Object.keys(shape).filter((key) => !shape[key]!.safeParse(undefined).success);
  delete generated.required;
  return required.length > 0 ? { ...generated, required } : generated;
}

/** The multipart form of a body: each image field a file field (repeated when it takes several). */
function multipartSchema(body: Record<string, unknown>, images: Record<string, number>): Record<string, unknown> {
  const properties = { ...(body.properties as Record<string, unknown>) };
  for (const [name, max] of Object.entries(images)) {
    const file = { type: 'string', format: 'binary' };
    properties[name] =
      max === 1
        ? { ...file, description: 'the photo file' }
        : { type: 'array', items: file, minItems: 1, maxItems: max, description: `1 to ${max} photo files (the field repeated)` };
  }
  return { ...body, properties };
}

/** Answers every route may give besides its own: the error envelope, as a client error or a server fault. */
const ERROR_RESPONSES = {
  '4XX': 'the request was refused (code and message in the envelope)',
  '5XX': 'internal (500), or overloaded / storage_unavailable (503, with Retry-After when overloaded)',
};

/**
 * A route's options from its one description: the scope auth enforces (route config), the scope the
 * OpenAPI document shows (schema security) and the image limits the upload reader enforces all come from it.
 */
export function routeOptions(route: RouteDoc): { config: { scope: RouteScope; upload: Record<string, number> }; schema: FastifySchema } {
  return { config: { scope: route.scope, upload: imageLimitsOf(route.body) }, schema: doc(route) };
}

function doc(route: RouteDoc): FastifySchema {
  const scopeNote = route.scope === 'public' ? 'No key needed.' : `Needs an API key with the ${route.scope} scope${route.scope === 'read' ? ' (or admin)' : ''}.`;
  const schema: Record<string, unknown> = {
    summary: route.summary,
    description: route.description ? `${scopeNote} ${route.description}` : scopeNote,
    tags: route.tags,
    security: route.scope === 'public' ? [] : [{ bearer: [] }, { apiKey: [] }],
    'x-scope': route.scope,
  };
  if (route.websocket) {
    const { subprotocol, client, server } = route.websocket;
    schema['x-websocket'] = { subprotocol, client, server: jsonSchema(server) };
  }
  if (route.body) {
    const body = requestSchema(route.body);
    const images = imageLimitsOf(route.body);
    const content: Record<string, { schema: Record<string, unknown> }> = {};
    if (Object.keys(images).length > 0) content['multipart/form-data'] = { schema: multipartSchema(body, images) };
    content['application/json'] = { schema: body };
    schema.body = { content };
  }
  if (route.rawBody) {
    schema.body = { description: route.rawBody.description, content: { [route.rawBody.contentType]: { schema: { type: 'string', format: 'binary' } } } };
  }
  if (route.query) schema.querystring = requestSchema(route.query);
  if (route.params) schema.params = requestSchema(route.params);
  const responses: Record<string, unknown> = {};
  for (const [status, response] of Object.entries(route.responses)) {
    responses[status] =
      response instanceof z.ZodType
        ? { description: 'OK', ...jsonSchema(response) }
        : response.contentType === undefined
          ? { description: response.description }
          : { description: response.description, content: { [response.contentType]: { schema: { type: 'string', format: 'binary' } } } };
  }
  for (const [status, description] of Object.entries(ERROR_RESPONSES)) responses[status] = { description, ...jsonSchema(errorEnvelope) };
  schema.response = responses;
  return schema;
}

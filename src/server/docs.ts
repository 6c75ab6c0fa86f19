import type { FastifySchema } from 'fastify';
import { z } from 'zod';
import type { RouteScope } from './auth.js';
import { errorEnvelope } from './wire.js';

/**
 * OpenAPI documentation for a route, generated from the same zod schemas that validate requests and
 * shape responses. Fastify's own validation and serialization are switched off (app.ts): these schemas
 * only describe.
 */
export interface RouteDoc {
  summary: string;
  tags: string[];
  scope: RouteScope;
  /** Request body sent as JSON or multipart form fields. */
  body?: z.ZodType;
  /** Multipart file fields, documented next to the body's fields. */
  files?: Record<string, string>;
  query?: z.ZodType;
  params?: z.ZodType;
  responses: Record<number, z.ZodType | { description: string; contentType: string }>;
}

const jsonSchema = (schema: z.ZodType, io: 'input' | 'output' = 'output'): Record<string, unknown> => {
  const generated: Record<string, unknown> = z.toJSONSchema(schema, { target: 'openapi-3.0', io, unrepresentable: 'any' });
  delete generated.$schema;
  return generated;
};

/**
 * A route's options from its one description: the scope auth enforces (route config) and the scope the
 * OpenAPI document shows (schema security) come from the same `scope`, as does the rest of the schema.
 */
export function routeOptions(route: RouteDoc): { config: { scope: RouteScope }; schema: FastifySchema } {
  return { config: { scope: route.scope }, schema: doc(route) };
}

export function doc(route: RouteDoc): FastifySchema {
  const schema: Record<string, unknown> = {
    summary: route.summary,
    tags: route.tags,
    security: route.scope === 'public' ? [] : [{ bearer: [] }, { apiKey: [] }],
  };
  if (route.body || route.files) {
    const body = route.body ? jsonSchema(route.body) : { type: 'object', properties: {} };
    const properties = { ...(body.properties as Record<string, unknown>) };
    for (const [name, description] of Object.entries(route.files ?? {})) {
      properties[name] = { type: 'string', format: 'binary', description: `${description} (multipart file, or base64 in JSON)` };
    }
    schema.body = { ...body, properties };
    schema.consumes = route.files ? ['multipart/form-data', 'application/json'] : ['application/json'];
  }
  if (route.query) schema.querystring = { ...jsonSchema(route.query), required: [] };
  if (route.params) schema.params = jsonSchema(route.params);
  const responses: Record<string, unknown> = {};
  for (const [status, response] of Object.entries(route.responses)) {
    responses[status] =
      response instanceof z.ZodType
        ? { description: 'OK', ...jsonSchema(response) }
        : { description: response.description, content: { [response.contentType]: { schema: { type: 'string', format: 'binary' } } } };
  }
  responses['4XX'] = { description: 'error envelope', ...jsonSchema(errorEnvelope) };
  schema.response = responses;
  return schema;
}

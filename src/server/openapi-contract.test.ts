import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { fakeEngine } from '../../test/fake-engine.js';
import { tempDir, testImage } from '../../test/fixtures.js';
import { loadConfig, type FacedbConfig } from '../config/config.js';
import { CALIBRATION as ONNX_CALIBRATION } from '../engine/onnx/calibration.js';
import { openFacedb } from '../facedb.js';
import type { FaceService } from '../services/face-service.js';
import { buildServer } from './app.js';
import * as wire from './wire.js';

/**
 * Walks the served OpenAPI document and checks it against the server: every documented bound is the bound
 * the server enforces (the bound accepted, one step past it refused with 400), unknown fields are refused,
 * every documented default is the server's, every route shows its scope, and the values "Try it out"
 * pre-fills make a call that succeeds. The engine is the fake one, carrying the real model's calibration so
 * that a target FAR means what it means in production.
 */
const ADMIN = 'contract-admin-key-000001';
const admin = { authorization: `Bearer ${ADMIN}` };

interface Property {
  type?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  minLength?: number;
  maxLength?: number;
  maxItems?: number;
  default?: unknown;
  example?: unknown;
  format?: string;
  items?: Property;
}
interface ObjectSchema {
  properties?: Record<string, Property>;
  required?: string[];
  additionalProperties?: boolean;
}
interface Parameter {
  in: 'query' | 'path';
  name: string;
  schema: Property;
  required?: boolean;
}
interface Operation {
  description?: string;
  security?: unknown[];
  'x-scope'?: string;
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema: ObjectSchema }> };
  responses: Record<string, unknown>;
}
type Document = { paths: Record<string, Record<string, Operation>> };

/** Values at and one step past each documented bound: [value, accepted]. */
function boundaryValues(property: Property): Array<[unknown, boolean]> {
  const values: Array<[unknown, boolean]> = [];
  const integer = property.type === 'integer';
  const step = (bound: number) => (integer ? 1 : Math.max(Math.abs(bound) * 1e-3, 1e-9));
  if (property.type === 'integer' || property.type === 'number') {
    if (property.minimum !== undefined) {
      const min = property.minimum;
      if (property.exclusiveMinimum) values.push([min, false], [min + step(min), true]);
      else values.push([min, true], [min - step(min), false]);
    }
    if (property.maximum !== undefined) {
      const max = property.maximum;
      if (property.exclusiveMaximum) values.push([max, false], [max - step(max), true]);
      else values.push([max, true], [max + step(max), false]);
    }
    if (integer && property.minimum !== undefined) values.push([property.minimum + 0.5, false]);
  }
  if (property.type === 'string' && property.format !== 'binary' && property.maxLength !== undefined) {
    values.push(['x'.repeat(property.maxLength), true], ['x'.repeat(property.maxLength + 1), false]);
  }
  if (property.type === 'string' && property.minLength !== undefined && property.minLength > 0) values.push(['', false]);
  return values;
}

void describe('the OpenAPI document agrees with the server', () => {
  let service: FaceService;
  let app: FastifyInstance;
  let config: FacedbConfig;
  let document: Document;
  let photo: string;
  let faceId: number;
  let personId: number;
  let requests = 0;

  /** Each request from its own network, so the not-found limit on id routes never trips this walk. */
  const send = (options: InjectOptions) => {
    requests += 1;
    return app.inject({ ...options, remoteAddress: `10.${(requests >> 8) & 255}.${requests & 255}.1`, headers: { ...admin, ...options.headers } });
  };

  /** A request to `path` that the server accepts, with `override` in its body or query. */
  function request(path: string, method: string, operation: Operation, where: 'body' | 'query' | 'path', name: string, value: unknown): InjectOptions {
    // Clusters: an id with no cluster, so naming one changes nothing (the body is checked before the id is looked up).
    const known = path.startsWith('/v1/faces/') ? faceId : path.startsWith('/v1/clusters/') ? 999_999 : personId;
    const url = path.replace('{id}', String(where === 'path' ? value : known));
    const query = new URLSearchParams();
    if (where === 'query') query.set(name, String(value));
    const json = operation.requestBody?.content['application/json']?.schema;
    let payload: Record<string, unknown> | undefined;
    if (json) {
      payload = {};
      for (const key of json.required ?? []) {
        // Corrections name faces with no face (404, changing nothing), and merge a person into themselves (409).
        const filler: Record<string, unknown> = { name: `Person ${requests}`, to: `Person ${requests}`, faces: [999_999], into: personId, person: personId };
        payload[key] = key.startsWith('image') ? photo : filler[key];
      }
      if (where === 'body') payload[name] = value;
    }
    const search = query.toString();
    return { method: method.toUpperCase(), url: search === '' ? url : `${url}?${search}`, ...(payload ? { payload } : {}) };
  }

  before(async () => {
    const dir = await tempDir('facedb-contract-');
    config = loadConfig({ db: join(dir, 'gallery.sqlite'), workers: 1, apiKeys: `admin:${ADMIN}` }, {});
    const engine = Object.create(await fakeEngine(), { calibration: { value: ONNX_CALIBRATION } }) as Awaited<ReturnType<typeof fakeEngine>>;
    assert.ok(engine.calibration, 'the real model calibration');
    service = await openFacedb({ ...config, engine });
    app = await buildServer(service, config);
    photo = (await readFile(testImage('Bono_0002.jpg'))).toString('base64');
    // Person 1 and face 1 are for the path bound id=1 to find (and DELETE to erase); the walk uses the second ones.
    const first = wire.person.parse((await send({ method: 'POST', url: '/v1/people', payload: { name: 'Id One' } })).json()).id;
    await send({ method: 'POST', url: `/v1/people/${first}/faces`, payload: { image: (await readFile(testImage('Bono_0001.jpg'))).toString('base64') } });
    personId = wire.person.parse((await send({ method: 'POST', url: '/v1/people', payload: { name: 'Ada' } })).json()).id;
    const enrolled = wire.enrollResponse.parse((await send({ method: 'POST', url: `/v1/people/${personId}/faces`, payload: { image: photo } })).json());
    faceId = enrolled.outcomes[0]!.face_id!;
    document = (await app.inject({ url: '/openapi.json' })).json<Document>();
  });
  after(async () => {
    await app.close();
    await service.close();
  });

  void it('accepts every documented bound and refuses one step past it', async () => {
    let checked = 0;
    for (const [path, methods] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        const fields: Array<[where: 'body' | 'query' | 'path', name: string, property: Property]> = [];
        for (const parameter of operation.parameters ?? []) fields.push([parameter.in, parameter.name, parameter.schema]);
        const json = operation.requestBody?.content['application/json']?.schema;
        for (const [name, property] of Object.entries(json?.properties ?? {})) fields.push(['body', name, property]);
        for (const [where, name, property] of fields) {
          for (const [value, accepted] of boundaryValues(property)) {
            const response = await send(request(path, method, operation, where, name, value));
            const what = `${method.toUpperCase()} ${path} ${where} ${name}=${String(value).slice(0, 20)}`;
            // 404 and 409 answer what is stored (no such id; a name in use), after the request was accepted as valid.
            if (accepted) assert.ok(response.statusCode < 400 || response.statusCode === 404 || response.statusCode === 409, `${what} is documented as accepted: ${response.body}`);
            else {
              assert.equal(response.statusCode, 400, `${what} is documented as refused: ${response.body}`);
            }
            checked += 1;
          }
        }
      }
    }
    assert.ok(checked >= 40, `${checked} bounds checked`);
  });

  void it('refuses unknown fields in every documented body and query, as additionalProperties: false says', async () => {
    for (const [path, methods] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        const json = operation.requestBody?.content['application/json']?.schema;
        if (json) {
          assert.equal(json.additionalProperties, false, `${path} body`);
          const response = await send(request(path, method, operation, 'body', 'not_a_field', 1));
          assert.equal(response.statusCode, 400, `${method} ${path}: ${response.body}`);
        }
        if (operation.parameters?.some((p) => p.in === 'query')) {
          const response = await send(request(path, method, operation, 'query', 'not_a_field', 1));
          assert.equal(response.statusCode, 400, `${method} ${path}?not_a_field: ${response.body}`);
        }
      }
    }
  });

  void it("documents the server's defaults and limits from its configuration", () => {
    const identify = document.paths['/v1/identify']!.post!.requestBody!.content['application/json']!.schema.properties!;
    assert.equal(identify.max_faces?.maximum, config.maxFacesPerImage);
    assert.equal(identify.max_faces?.default, Math.min(config.maxFaces, config.maxFacesPerImage));
    assert.equal(identify.top_k?.default, config.topK);
    assert.equal(identify.min_face_size?.default, config.minFaceSize);
    assert.equal(identify.detect?.default, true);
    const people = document.paths['/v1/people']!.get!.parameters!;
    assert.deepEqual(
      people.map((p) => [p.name, p.schema.default]),
      [
        ['limit', 50],
        ['offset', 0],
      ],
    );
    for (const path of ['/v1/analyze', '/v1/detect', '/v1/represent']) {
      const properties = Object.keys(document.paths[path]!.post!.requestBody!.content['application/json']!.schema.properties!);
      // analyze computes attributes, so it takes the list of them; detect and represent compute none.
      const reads = path === '/v1/analyze' ? ['attributes', 'detect', 'image', 'max_faces', 'min_face_size'] : ['detect', 'image', 'max_faces', 'min_face_size'];
      assert.deepEqual(properties.sort(), reads, `${path} documents only what it reads`);
    }
  });

  void it('the listing applies its documented defaults', async () => {
    const page = wire.peoplePage.parse((await send({ url: '/v1/people' })).json());
    assert.deepEqual([page.limit, page.offset], [50, 0]);
  });

  void it('shows every route its scope, /metrics too, and documents 4XX and 5XX answers', () => {
    assert.ok(document.paths['/metrics']?.get, '/metrics is documented');
    for (const [path, methods] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        assert.ok(['public', 'read', 'admin'].includes(operation['x-scope'] ?? ''), `${method} ${path} shows its scope`);
        assert.match(operation.description ?? '', /key|No key/, `${method} ${path} says what key it needs`);
        assert.ok(operation.responses['4XX'] && operation.responses['5XX'], `${method} ${path} documents its errors`);
      }
    }
  });

  void it('"Try it out" pre-fills values that make a call the server accepts', async () => {
    for (const path of ['/v1/identify', '/v1/analyze', '/v1/detect', '/v1/represent', '/v1/verify']) {
      const form = document.paths[path]!.post!.requestBody!.content['multipart/form-data']!.schema;
      const payload: Record<string, unknown> = {};
      for (const [name, property] of Object.entries(form.properties ?? {})) {
        if (property.format === 'binary') payload[name] = photo;
        else {
          assert.ok('example' in property || 'default' in property, `${path} ${name} has an example or a default`);
          const prefilled = 'example' in property ? property.example : property.default;
          if (prefilled !== null && prefilled !== undefined) payload[name] = prefilled;
        }
      }
      const response = await send({ method: 'POST', url: path, payload });
      assert.equal(response.statusCode, 200, `${path}: ${response.body}`);
    }
  });
});

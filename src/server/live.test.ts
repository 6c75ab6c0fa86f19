import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import WebSocket from 'ws';
import { fakeEngine, type FakeEngine } from '../../test/fake-engine.js';
import { tempDir, testImage } from '../../test/fixtures.js';
import { openFacedb } from '../facedb.js';
import type { FaceService } from '../services/face-service.js';
import { buildServer } from './app.js';
import { LIVE_PROTOCOL, liveServerMessage, type LiveServerMessage } from './live-wire.js';
import * as wire from './wire.js';

/**
 * The live view's WebSocket route on a real server (ephemeral port) with the fake engine: the model is not what is
 * tested here but the route's rules (keys, origins, one picture in flight, the inference gate, limits, bad input).
 * The fake engine sees one face in any photo and embeds a photo the same way every time, so the enrolled photo
 * sent as a frame is that person.
 */
const ADMIN = 'live-test-admin-key-000001';
const READ = 'live-test-read-key-0000001';
const keyProtocol = (key: string) => `facedb.key.${Buffer.from(key).toString('base64url')}`;

/** A connection and the JSON messages it received, read in order. */
interface Client {
  socket: WebSocket;
  next(): Promise<LiveServerMessage>;
  closed: Promise<{ code: number; reason: string }>;
}

function open(url: string, options: { protocols?: string[]; origin?: string; headers?: Record<string, string> } = {}): Promise<Client> {
  const socket = new WebSocket(url, options.protocols ?? [LIVE_PROTOCOL], { ...(options.origin ? { origin: options.origin } : {}), headers: options.headers ?? {} });
  const received: LiveServerMessage[] = [];
  const waiting: Array<(message: LiveServerMessage) => void> = [];
  socket.on('message', (data: Buffer) => {
    const message = liveServerMessage.parse(JSON.parse(data.toString()));
    const reader = waiting.shift();
    if (reader) reader(message);
    else received.push(message);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  const client: Client = {
    socket,
    closed,
    next: () => {
      const queued = received.shift();
      return queued ? Promise.resolve(queued) : new Promise((resolve) => waiting.push(resolve));
    },
  };
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve(client));
    socket.once('unexpected-response', (_request, response: IncomingMessage) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => reject(Object.assign(new Error(`HTTP ${response.statusCode}`), { status: response.statusCode, body })));
    });
    socket.once('error', reject);
  });
}

/** The refusal of an upgrade: its status and error code. */
async function refusal(attempt: Promise<Client>): Promise<{ status: number; code: string; message: string }> {
  const error = (await attempt.then(
    () => assert.fail('the connection was accepted'),
    (failure: unknown) => failure,
  )) as { status: number; body: string };
  const { code, message } = wire.errorEnvelope.parse(JSON.parse(error.body)).error;
  return { status: error.status, code, message };
}

async function expectType<T extends LiveServerMessage['type']>(client: Client, type: T): Promise<Extract<LiveServerMessage, { type: T }>> {
  const message = await client.next();
  assert.equal(message.type, type, JSON.stringify(message).slice(0, 300));
  return message as Extract<LiveServerMessage, { type: T }>;
}

void describe('GET /v1/live (WebSocket) with API keys', () => {
  let service: FaceService;
  let engine: FakeEngine;
  let app: FastifyInstance;
  let url: string;
  let http: string;
  let photo: Buffer;

  before(async () => {
    const dir = await tempDir('facedb-live-');
    engine = await fakeEngine();
    // One worker: two inference slots, so two live connections at most.
    service = await openFacedb({ db: join(dir, 'gallery.sqlite'), workers: 1, apiKeys: `admin:${ADMIN},read:${READ}`, engine });
    app = await buildServer(service, service.config);
    await app.listen({ port: 0, host: '127.0.0.1' });
    const port = (app.server.address() as AddressInfo).port;
    url = `ws://127.0.0.1:${port}/v1/live`;
    http = `http://127.0.0.1:${port}`;
    photo = await readFile(testImage('Bono_0001.jpg'));
    await service.enrollImage('Bono', { bytes: photo });
  });
  after(async () => {
    await app.close();
    await service.close();
  });

  void it('refuses a connection without a key, or with a wrong one, before it is upgraded', async () => {
    assert.deepEqual(await refusal(open(url)), { status: 401, code: 'unauthorized', message: 'an API key is required (Authorization: Bearer <key> or x-api-key)' });
    const wrong = await refusal(open(url, { protocols: [LIVE_PROTOCOL, keyProtocol('not-the-key-at-all-000')] }));
    assert.deepEqual([wrong.status, wrong.code], [401, 'unauthorized']);
  });

  void it('accepts a read key offered as a subprotocol (as a browser sends it) and never echoes it', async () => {
    const client = await open(url, { protocols: [LIVE_PROTOCOL, keyProtocol(READ)] });
    assert.equal(client.socket.protocol, LIVE_PROTOCOL);
    const ready = await expectType(client, 'ready');
    assert.equal(ready.protocol, LIVE_PROTOCOL);
    assert.ok(ready.threshold > 0);
    assert.equal(ready.max_frame_bytes, Math.min(service.config.maxFileBytes, service.config.bodyLimitBytes));
    client.socket.close();
    await client.closed;
  });

  void it('accepts a key in a header from clients that can set one', async () => {
    const client = await open(url, { headers: { authorization: `Bearer ${ADMIN}` } });
    await expectType(client, 'ready');
    client.socket.close();
    await client.closed;
  });

  void it('tracks the face over pictures and names its track like identify, with emotion', async () => {
    const client = await open(url, { protocols: [LIVE_PROTOCOL, keyProtocol(READ)] });
    await expectType(client, 'ready');
    const answers = [];
    for (let i = 0; i < 4; i++) {
      client.socket.send(photo);
      answers.push(await expectType(client, 'frame'));
    }
    assert.deepEqual(
      answers.map((answer) => answer.frame),
      [0, 1, 2, 3],
    );
    const tracks = new Set(answers.flatMap((answer) => answer.faces.map((face) => face.track)));
    assert.equal(tracks.size, 1, 'one face, one track');
    assert.equal(answers[0]!.faces[0]!.decided, false, 'not named from a single sighting');
    const last = answers[3]!.faces[0]!;
    assert.deepEqual([last.decided, last.person], [true, 'Bono']);
    assert.ok(last.confidence === null || last.confidence >= 0.5);
    assert.ok(last.emotion !== null, 'emotion is read by default');
    const events = answers.flatMap((answer) => answer.events.map((event) => event.type));
    assert.deepEqual(events, ['track_started', 'identity']);
    const identified = answers.flatMap((answer) => answer.events).find((event) => event.type === 'identity');
    assert.equal(identified?.type === 'identity' && identified.person, 'Bono');
    const identify = await service.identify({ bytes: photo });
    assert.equal(answers[3]!.faces[0]!.distance, identify.faces[0]!.candidates[0]!.distance, 'the same distance as identify');
    client.socket.close();
    await client.closed;
  });

  void it('ends on {"type": "end"}: the picture in flight is answered, then every open track\'s summary, then it closes', async () => {
    const client = await open(url, { protocols: [LIVE_PROTOCOL, keyProtocol(READ)] });
    await expectType(client, 'ready');
    for (let i = 0; i < 3; i++) {
      client.socket.send(photo);
      await expectType(client, 'frame');
    }
    // The end message arrives while the last picture is still in the engine: that picture is answered first.
    const { held, release } = engine.hold();
    client.socket.send(photo);
    await held;
    client.socket.send(JSON.stringify({ type: 'end' }));
    client.socket.send(photo); // after the end: not read
    release();
    const last = await expectType(client, 'frame');
    assert.equal(last.frame, 3);
    const ended = await expectType(client, 'ended');
    assert.equal(ended.events.length, 1, 'the one open track');
    const summary = ended.events[0]!;
    assert.equal(summary.type, 'track_ended');
    if (summary.type !== 'track_ended') return;
    assert.deepEqual([summary.track, summary.person, summary.frames_seen], [last.faces[0]!.track, 'Bono', 4]);
    assert.ok(summary.crop.length > 100, 'the best sighting as a JPEG');
    assert.deepEqual(await client.closed, { code: 1000, reason: 'ended' });
  });

  void it('ends at once when nothing was seen, and refuses any other text message', async () => {
    const client = await open(url, { protocols: [LIVE_PROTOCOL, keyProtocol(READ)] });
    await expectType(client, 'ready');
    client.socket.send(JSON.stringify({ type: 'stop' }));
    const refused = await expectType(client, 'error');
    assert.equal(refused.code, 'invalid_input');
    assert.match(refused.message, /\{"type": "end"\}/);
    client.socket.send('{"type":"end"}');
    assert.deepEqual((await expectType(client, 'ended')).events, []);
    assert.equal((await client.closed).code, 1000);
  });

  void it('answers one picture at a time: pictures sent before the answer are dropped and counted', async () => {
    const client = await open(url, { protocols: [LIVE_PROTOCOL, keyProtocol(READ)] });
    await expectType(client, 'ready');
    const { held, release } = engine.hold();
    client.socket.send(photo);
    await held;
    for (let i = 0; i < 4; i++) client.socket.send(photo);
    // Messages are read in order: once the text message is answered, the four pictures before it were read.
    client.socket.send('hello');
    const refused = await expectType(client, 'error');
    assert.equal(refused.code, 'invalid_input');
    assert.match(refused.message, /binary message/);
    release();
    const answer = await expectType(client, 'frame');
    assert.deepEqual([answer.frame, answer.dropped], [0, 4]);
    // The connection goes on: the next picture is answered.
    client.socket.send(photo);
    assert.equal((await expectType(client, 'frame')).frame, 1);
    client.socket.close();
    await client.closed;
  });

  void it('answers a bad picture with its error and goes on', async () => {
    const client = await open(url, { protocols: [LIVE_PROTOCOL, keyProtocol(READ)] });
    await expectType(client, 'ready');
    client.socket.send(Buffer.from('this is not a picture'));
    const error = await expectType(client, 'error');
    assert.deepEqual([error.frame, error.code], [0, 'invalid_image']);
    client.socket.send(photo.subarray(0, photo.length / 2));
    assert.equal((await expectType(client, 'error')).code, 'invalid_image');
    client.socket.send(photo);
    const answer = await expectType(client, 'frame');
    assert.deepEqual([answer.frame, answer.faces.length], [2, 1]);
    client.socket.close();
    await client.closed;
  });

  void it('gives inference slots to waiting photos first: a picture is skipped with busy while identify waits', async () => {
    const client = await open(url, { protocols: [LIVE_PROTOCOL, keyProtocol(READ)] });
    await expectType(client, 'ready');
    // Two identify requests fill the two slots (held in the engine), a third waits for one.
    const { held, release } = engine.hold();
    const identify = () => {
      const form = new FormData();
      form.append('image', new Blob([photo]), 'photo.jpg');
      return fetch(`${http}/v1/identify`, { method: 'POST', body: form, headers: { 'x-api-key': READ } });
    };
    const requests = [identify(), identify(), identify()];
    await held;
    await new Promise((resolve) => setTimeout(resolve, 200));
    client.socket.send(photo);
    const busy = await expectType(client, 'busy');
    assert.ok(busy.retry_ms > 0);
    release();
    for (const response of await Promise.all(requests)) assert.equal(response.status, 200);
    client.socket.send(photo);
    assert.equal((await expectType(client, 'frame')).faces[0]?.person, null, 'not decided from one sighting');
    client.socket.close();
    await client.closed;
  });

  void it('serves at most two live views per worker; the next one is told why', async () => {
    const first = await open(url, { protocols: [LIVE_PROTOCOL, keyProtocol(READ)] });
    const second = await open(url, { protocols: [LIVE_PROTOCOL, keyProtocol(READ)] });
    await expectType(first, 'ready');
    await expectType(second, 'ready');
    const third = await open(url, { protocols: [LIVE_PROTOCOL, keyProtocol(READ)] });
    const refused = await expectType(third, 'error');
    assert.equal(refused.code, 'overloaded');
    assert.equal((await third.closed).code, 1013);
    first.socket.close();
    await first.closed;
    // A place freed is a place taken.
    const fourth = await open(url, { protocols: [LIVE_PROTOCOL, keyProtocol(READ)] });
    await expectType(fourth, 'ready');
    for (const client of [second, fourth]) {
      client.socket.close();
      await client.closed;
    }
  });

  void it('counts live views and what became of their pictures in /metrics', async () => {
    const metric = async (name: string): Promise<number> => {
      const text = await (await fetch(`${http}/metrics`, { headers: { 'x-api-key': READ } })).text();
      const line = text.split('\n').find((row) => row.startsWith(`${name} `));
      assert.ok(line, `${name} in /metrics`);
      return Number(line.split(' ')[1]);
    };
    const outcome = (name: string) => metric(`facedb_live_pictures_total{outcome="${name}"}`);
    const before = { answered: await outcome('answered'), refused: await outcome('refused'), dropped: await outcome('dropped'), connections: await metric('facedb_live_connections') };
    const client = await open(url, { protocols: [LIVE_PROTOCOL, keyProtocol(READ)] });
    await expectType(client, 'ready');
    assert.equal(await metric('facedb_live_connections'), before.connections + 1);
    const { held, release } = engine.hold();
    client.socket.send(photo);
    await held;
    client.socket.send(photo); // dropped: sent before the answer
    client.socket.send('not the end message'); // read after the dropped picture, so answering it orders the two
    await expectType(client, 'error');
    release();
    await expectType(client, 'frame');
    client.socket.send(Buffer.from('not a picture'));
    await expectType(client, 'error');
    assert.deepEqual([await outcome('answered'), await outcome('refused'), await outcome('dropped')], [before.answered + 1, before.refused + 1, before.dropped + 1]);
    client.socket.close();
    await client.closed;
    // The server sees the close on its side a moment after the client does.
    const deadline = Date.now() + 5000;
    while ((await metric('facedb_live_connections')) !== before.connections && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(await metric('facedb_live_connections'), before.connections);
  });

  void it('answers a plain GET with a clear error and documents the protocol in the OpenAPI document', async () => {
    const plain = await fetch(`${http}/v1/live`, { headers: { 'x-api-key': READ } });
    assert.equal(plain.status, 400);
    assert.match(wire.errorEnvelope.parse(await plain.json()).error.message, /WebSocket/);
    const document = (await (await fetch(`${http}/openapi.json`)).json()) as { paths: Record<string, { get?: Record<string, unknown> }> };
    const live = document.paths['/v1/live']?.get;
    assert.ok(live, '/v1/live is documented');
    assert.equal(live['x-scope'], 'read');
    const websocket = live['x-websocket'] as { subprotocol: string; server: { oneOf?: unknown[]; anyOf?: unknown[] } };
    assert.equal(websocket.subprotocol, LIVE_PROTOCOL);
    assert.equal((websocket.server.oneOf ?? websocket.server.anyOf)?.length, 5, 'ready, frame, busy, error and ended');
  });
});

void describe('GET /v1/live in open mode (no keys, loopback)', () => {
  let service: FaceService;
  let app: FastifyInstance;
  let url: string;
  let origin: string;

  before(async () => {
    const dir = await tempDir('facedb-live-open-');
    service = await openFacedb({ db: join(dir, 'gallery.sqlite'), workers: 1, engine: await fakeEngine(), requestTimeoutMs: 600, maxFileBytes: 64 * 1024 });
    app = await buildServer(service, service.config);
    await app.listen({ port: 0, host: '127.0.0.1' });
    const port = (app.server.address() as AddressInfo).port;
    url = `ws://127.0.0.1:${port}/v1/live`;
    origin = `http://127.0.0.1:${port}`;
  });
  after(async () => {
    await app.close();
    await service.close();
  });

  void it("refuses another web site's page and serves the server's own", async () => {
    const other = await refusal(open(url, { origin: 'http://evil.example' }));
    assert.deepEqual([other.status, other.code], [403, 'forbidden']);
    assert.match(other.message, /other web sites/);
    const own = await open(url, { origin });
    await expectType(own, 'ready');
    own.socket.close();
    await own.closed;
  });

  void it('closes a connection that sends nothing, saying why', async () => {
    const client = await open(url, { origin });
    await expectType(client, 'ready');
    const idle = await expectType(client, 'error');
    assert.equal(idle.code, 'request_timeout');
    assert.equal((await client.closed).code, 1000);
  });

  void it('closes the connection on a picture over the upload limit, without reading it whole', async () => {
    const client = await open(url, { origin });
    await expectType(client, 'ready');
    client.socket.send(Buffer.alloc(64 * 1024 + 1));
    assert.equal((await client.closed).code, 1009);
  });
});

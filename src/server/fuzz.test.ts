import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createHash } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { FastifyInstance, InjectOptions } from 'fastify';
import sharp from 'sharp';
import { lfwPhoto, pngDeclaring, seededRandom as prng, tempDir, testImage } from '../../test/fixtures.js';
import { loadConfig } from '../config/config.js';
import { decodeImage } from '../image/decode.js';
import { openFacedb } from '../facedb.js';
import type { FaceService } from '../services/face-service.js';
import { buildServer } from './app.js';
import { optionsOf, requestSchemas } from './request-wire.js';
import * as wire from './wire.js';

/**
 * A deterministic corpus of malformed requests. Every one must get a 4xx with the error envelope, the
 * server must keep working, the gallery must not change and memory must settle back. Bit-flipped JPEGs
 * are the exception: JPEG has no checksum, so most of them still decode into a (damaged) photo and
 * rightly get a 200; they only have to avoid 5xx.
 */

const KEY = 'fuzz-admin-key-000000001';
const READ_KEY = 'fuzz-read-key-0000000001';
const CORPUS_SEED = 20240611;
const BODY_LIMIT = 1024 * 1024;
/** The identify options a server with the default configuration accepts. */
const identifyOptions = optionsOf(requestSchemas(loadConfig({}, {})).identify);

interface Case {
  kind: string;
  request: InjectOptions;
  /** Set for inputs that may legitimately succeed (bit-flipped JPEGs, near-limit photos): the image sent. */
  mayDecode?: Buffer;
  /** The key sent: admin (default), none, a wrong one (from an address of its own, past the failed-key limit) or a read key. */
  auth?: 'none' | 'wrong' | 'read';
}

/** Real photos at the edge of the limits, and the gallery ids that hostile requests aim at. */
interface CorpusInputs {
  jpeg: Buffer;
  png: Buffer;
  tinyJpeg: Buffer;
  /** 7000×7000 JPEG with a face: 49 MP, just under the 50 MP default. */
  nearLimit: Buffer;
  /** 7072×7072: just over 50 MP. */
  overLimit: Buffer;
  personId: number;
  faceId: number;
}

function multipart(field: string, file: Uint8Array, extra: Record<string, string> = {}, type = 'image/jpeg') {
  const boundary = 'fuzzboundary7MA4YWxkTrZu0gW';
  const parts = Object.entries(extra).map(
    ([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
  );
  const payload = Buffer.concat([
    Buffer.from(parts.join('')),
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="x"\r\nContent-Type: ${type}\r\n\r\n`),
    file,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { payload, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

function buildCorpus({ jpeg, png, tinyJpeg, nearLimit, overLimit, personId, faceId }: CorpusInputs): Case[] {
  const random = prng(CORPUS_SEED);
  const int = (n: number): number => Math.floor(random() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;
  const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => int(256)));
  const flip = (source: Buffer, flips: number, from = 0): Buffer => {
    const copy = Buffer.from(source);
    for (let i = 0; i < flips; i++) {
      const at = from + int(copy.length - from);
      copy[at] = (copy[at] ?? 0) ^ (1 << int(8));
    }
    return copy;
  };
  const routes = ['/v1/identify', '/v1/analyze', '/v1/detect', '/v1/represent'];
  const post = (kind: string, body: { payload: unknown; headers?: Record<string, string> }, url = pick(routes)): Case => ({
    kind,
    request: { method: 'POST', url, payload: body.payload as InjectOptions['payload'], headers: body.headers ?? {} },
  });
  const cases: Case[] = [];
  const repeat = (n: number, make: (i: number) => Case): void => {
    for (let i = 0; i < n; i++) cases.push(make(i));
  };

  repeat(200, () => post('random bytes', multipart('image', bytes(int(4096)))));
  repeat(100, () => post('random bytes as base64', { payload: { image: bytes(1 + int(2048)).toString('base64') } }));
  repeat(150, () => post('truncated jpeg', multipart('image', jpeg.subarray(0, int(jpeg.length - 1)))));
  repeat(50, () => post('truncated png', multipart('image', png.subarray(0, int(png.length - 1)), {}, 'image/png')));
  repeat(200, () => post('bit-flipped png', multipart('image', flip(png, 1 + int(8), 8), {}, 'image/png')));
  repeat(12, () => {
    const flipped = flip(jpeg, 1 + int(8));
    return { ...post('bit-flipped jpeg', multipart('image', flipped)), mayDecode: flipped };
  });
  // Near-limit photos: whole ones are valid (decoded shrunk), cut ones make the decoder work before failing.
  repeat(3, () => ({ ...post('near-limit photo', multipart('image', nearLimit)), mayDecode: nearLimit }));
  repeat(8, () => post('near-limit photo, truncated', multipart('image', nearLimit.subarray(0, 2000 + int(nearLimit.length - 4000)))));
  repeat(4, () => post('just over the pixel limit', multipart('image', overLimit)));

  // Multipart framing broken by the fuzzer itself (the file is random bytes: even a body that somehow parsed
  // must end in a 4xx, so a 5xx can only come from the framing).
  repeat(120, () => {
    const boundary = 'fuzzboundary7MA4YWxkTrZu0gW';
    const { payload } = multipart('image', bytes(64 + int(2048)), random() < 0.5 ? { top_k: '3' } : {});
    const text = payload.toString('latin1');
    const type = `multipart/form-data; boundary=${boundary}`;
    const closing = text.lastIndexOf(`--${boundary}--`);
    const broken = pick<[string, { payload: Buffer; headers: Record<string, string> }]>([
      ['truncated', { payload: payload.subarray(0, int(closing)), headers: { 'content-type': type } }],
      ['no boundary parameter', { payload, headers: { 'content-type': 'multipart/form-data' } }],
      ['empty boundary', { payload, headers: { 'content-type': 'multipart/form-data; boundary=' } }],
      ['wrong boundary', { payload, headers: { 'content-type': `multipart/form-data; boundary=${boundary.slice(0, -1 - int(5))}` } }],
      ['boundary of another case', { payload, headers: { 'content-type': `multipart/form-data; boundary=${boundary.toUpperCase()}` } }],
      ['no closing boundary', { payload: Buffer.from(text.slice(0, closing), 'latin1'), headers: { 'content-type': type } }],
      ['LF instead of CRLF', { payload: Buffer.from(text.replaceAll('\r\n', '\n'), 'latin1'), headers: { 'content-type': type } }],
      ['garbled part header', { payload: Buffer.from(text.replace('Content-Disposition', bytes(19).toString('latin1')), 'latin1'), headers: { 'content-type': type } }],
      ['header without end', { payload: Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="x"\r\n${'X-Pad: y\r\n'.repeat(1 + int(50))}`, 'latin1'), headers: { 'content-type': type } }],
      ['only boundaries', { payload: Buffer.from(`--${boundary}\r\n`.repeat(1 + int(20)), 'latin1'), headers: { 'content-type': type } }],
    ]);
    return post(`broken framing: ${broken[0]}`, broken[1]);
  });

  // Requests that would change the gallery if a key check were missing: no key, a wrong key, a read key on admin routes.
  const tamper = (): InjectOptions =>
    pick<InjectOptions>([
      { method: 'POST', url: '/v1/people', payload: { name: 'Mallory' } },
      { method: 'DELETE', url: `/v1/people/${personId}` },
      { method: 'DELETE', url: `/v1/faces/${faceId}` },
      { method: 'POST', url: `/v1/people/${personId}/faces`, payload: { image: [jpeg.toString('base64')] } },
      { method: 'POST', url: `/v1/people/${personId}/faces`, ...multipart('image', png, {}, 'image/png') },
      { method: 'GET', url: '/v1/people' },
      { method: 'GET', url: `/v1/faces/${faceId}/image` },
      { method: 'POST', url: pick(routes), payload: { image: jpeg.toString('base64') } },
      { method: 'GET', url: '/metrics' },
    ]);
  repeat(40, () => ({ kind: 'no key', request: tamper(), auth: 'none' }));
  repeat(40, () => ({ kind: 'wrong key', request: tamper(), auth: 'wrong' }));
  repeat(40, () => {
    const request = pick<InjectOptions>([
      { method: 'POST', url: '/v1/people', payload: { name: 'Mallory' } },
      { method: 'DELETE', url: `/v1/people/${personId}` },
      { method: 'DELETE', url: `/v1/faces/${faceId}` },
      { method: 'POST', url: `/v1/people/${personId}/faces`, payload: { image: [jpeg.toString('base64')] } },
    ]);
    return { kind: 'read key on an admin route', request, auth: 'read' };
  });
  repeat(60, () => {
    const type = pick(['text/plain', 'application/xml', 'image/jpeg', 'application/x-www-form-urlencoded', 'application/octet-stream', 'video/mp4']);
    return post(`content type ${type}`, { payload: bytes(1 + int(512)), headers: { 'content-type': type } });
  });
  repeat(80, () => {
    const garbage = pick<unknown>([
      '%%%' + bytes(64).toString('latin1'),
      'data:image/jpeg;base64,@@@@',
      'A',
      'AAAAA',
      42,
      null,
      { nested: true },
      [jpeg.toString('base64')],
      'YWJj\u0000ZGVm',
      bytes(int(300)).toString('hex') + '!',
    ]);
    return post('base64 garbage', { payload: { image: garbage } });
  });
  repeat(50, () => {
    const width = 10_000 + int(60_000);
    const height = 10_000 + int(60_000);
    const body = pngDeclaring(width, height);
    return random() < 0.5 ? post('huge declared png', multipart('image', body)) : post('huge declared png', { payload: { image: body.toString('base64') } });
  });
  repeat(30, (i) =>
    post('empty body', [
      multipart('image', Buffer.alloc(0)),
      { payload: '', headers: { 'content-type': 'application/json' } },
      { payload: {} },
      { payload: '' },
      { payload: { image: '' } },
    ][i % 5] ?? { payload: '' }),
  );
  repeat(20, (i) =>
    i % 2 === 0
      ? post('oversized multipart', multipart('image', Buffer.concat([tinyJpeg, bytes(BODY_LIMIT + int(BODY_LIMIT))])))
      : post('oversized json', { payload: { image: 'A'.repeat(BODY_LIMIT + int(BODY_LIMIT)) } }),
  );
  const validJson = JSON.stringify({ image: tinyJpeg.toString('base64'), top_k: 3 });
  repeat(60, () => {
    const broken = pick([
      validJson.slice(0, int(validJson.length - 1)),
      `{${bytes(40).toString('latin1')}`,
      '{"image": }',
      "{'image': 'x'}",
      '[1,2,',
      '{"image":"x",}',
      '\u0000\u0001',
      'null',
      '"just a string"',
      '[]',
    ]);
    return post('bad json', { payload: broken, headers: { 'content-type': 'application/json' } });
  });
  repeat(60, () => {
    const key = pick(['top_k', 'threshold', 'max_faces', 'min_face_size']);
    const value = pick(['-1', 'abc', '1e9', '0', '99999', 'NaN', 'Infinity', '-Infinity', '1.5', '0x10', '[]', '5', '1;DROP TABLE people']);
    // A value that happens to be valid would reach inference; a second, certainly bad option keeps it a 4xx.
    const valid = identifyOptions.safeParse({ [key]: value }).success;
    const other = key === 'max_faces' ? 'top_k=-1' : 'max_faces=-3';
    const route = pick(routes);
    return random() < 0.5
      ? post('bad query value', multipart('image', tinyJpeg), `${route}?${key}=${encodeURIComponent(value)}${valid ? `&${other}` : ''}`)
      : post('bad form value', multipart('image', tinyJpeg, { [key]: value }), `${route}${valid ? `?${other}` : ''}`);
  });
  repeat(50, () => {
    const bad: InjectOptions[] = [
      { method: 'POST', url: '/v1/people', payload: { name: '' } },
      { method: 'POST', url: '/v1/people', payload: { name: 'x'.repeat(201) } },
      { method: 'POST', url: '/v1/people', payload: { name: ['Bono'] } },
      { method: 'POST', url: '/v1/people', payload: 'name=Bono', headers: { 'content-type': 'application/x-www-form-urlencoded' } },
      { method: 'GET', url: `/v1/people?limit=${pick(['-1', '0', 'x', '5000', '1e3.5'])}` },
      { method: 'GET', url: `/v1/people?offset=${pick(['-1', 'x', '1.5'])}` },
      { method: 'GET', url: `/v1/people/${pick(['abc', '0', '-1', '1.5', '99999999999', '%00'])}` },
      { method: 'DELETE', url: `/v1/people/${pick(['abc', '0', '999999'])}` },
      { method: 'DELETE', url: `/v1/faces/${pick(['abc', '-4', '999999'])}` },
      { method: 'GET', url: `/v1/faces/${pick(['x', '0', '999999'])}/image` },
      { method: 'POST', url: '/v1/people/1/faces', payload: { image: pick<unknown>(['x', [], 5, null, Array(21).fill('AAAA')]) } },
      { method: 'POST', url: '/v1/people/999999/faces', payload: { image: ['AAAA'] } },
      { method: 'POST', url: '/v1/verify', ...multipart('image_a', tinyJpeg) },
      { method: 'POST', url: '/v1/verify', payload: { image_a: 'AAAA', image_b: 17 } },
      { method: 'PUT', url: pick(routes) },
      { method: 'GET', url: `/v1/${bytes(8).toString('hex')}` },
    ];
    return { kind: 'bad gallery request', request: pick(bad) };
  });
  return cases;
}

async function corpusInputs(service: FaceService): Promise<CorpusInputs> {
  const jpeg = await readFile(testImage('Bono_0002.jpg'));
  const png = await sharp(jpeg).png().toBuffer();
  // Valid but tiny and faceless: the cases that pair it with a bad option must fail before inference anyway.
  const tinyJpeg = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#808080' } }).jpeg().toBuffer();
  const face = await sharp(jpeg).resize(800, 800).png().toBuffer();
  const canvas = (side: number) => sharp({ create: { width: side, height: side, channels: 3, background: '#7a8a99' } });
  const nearLimit = await canvas(7000).composite([{ input: face, left: 3100, top: 2600 }]).jpeg({ quality: 75 }).toBuffer();
  const overLimit = await canvas(7072).jpeg({ quality: 50 }).toBuffer();
  const bono = await service.findPerson('Bono');
  const faceId = (await service.listFaces(bono.id, { limit: 1, offset: 0 })).items[0]?.id ?? 0;
  return { jpeg, png, tinyJpeg, nearLimit, overLimit, personId: bono.id, faceId };
}

/** A digest of everything the gallery holds: people, their faces (box, photo hash) and every embedding's bytes. */
async function galleryDigest(service: FaceService): Promise<string> {
  const hash = createHash('sha256');
  const people = await service.listPeople({ limit: 10_000, offset: 0 });
  for (const person of people.items) {
    hash.update(`person ${person.id} ${person.name} ${person.faceCount}\n`);
    for (const face of (await service.listFaces(person.id, { limit: 10_000, offset: 0 })).items) {
      hash.update(`face ${face.id} ${face.personId} ${face.contentHash} ${JSON.stringify(face.box)} ${face.detectionScore}\n`);
    }
  }
  const snapshot = await service.store.loadEmbeddings();
  for (const array of [snapshot.faceIds, snapshot.personIds, snapshot.vectors]) {
    hash.update(new Uint8Array(array.buffer, array.byteOffset, array.byteLength));
  }
  return hash.digest('hex');
}

function forceGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

void describe('fuzzing the HTTP API with malformed uploads', () => {
  let service: FaceService;
  let app: FastifyInstance;
  let corpus: Case[];
  let inputs: CorpusInputs;
  const headers = { authorization: `Bearer ${KEY}` };

  before(async () => {
    const dir = await tempDir('facedb-fuzz-');
    const config = loadConfig(
      { db: join(dir, 'gallery.sqlite'), workers: 2, apiKeys: `admin:${KEY},read:${READ_KEY}`, bodyLimitBytes: BODY_LIMIT, maxFileBytes: BODY_LIMIT },
      {},
    );
    service = await openFacedb(config);
    app = await buildServer(service, config);
    const enrolled = await service.enroll([
      { person: 'Bono', path: lfwPhoto('Bono', 1) },
      { person: 'Brad Pitt', path: lfwPhoto('Brad_Pitt', 1) },
    ]);
    assert.equal(enrolled.counts.enrolled, 2);
    inputs = await corpusInputs(service);
    corpus = buildCorpus(inputs);
  });
  after(async () => {
    await app.close();
    await service.close();
  });

  void it('builds the same corpus of at least 1,000 cases every time', () => {
    assert.ok(corpus.length >= 1000, `${corpus.length} cases`);
    const again = buildCorpus({ ...inputs, tinyJpeg: Buffer.from('x') });
    assert.deepEqual(
      again.map((c) => c.kind),
      corpus.map((c) => c.kind),
    );
  });

  void it('answers every malformed request with a 4xx envelope, and nothing changes', async () => {
    const gc = forceGc();
    const galleryBefore = await galleryDigest(service);
    const batch = 8;
    let guesser = 0;
    const send = (c: Case) => {
      const key: Record<string, string> =
        c.auth === 'none' ? {} : c.auth === 'wrong' ? { authorization: `Bearer wrong-${prng(guesser)().toString(36)}-key` } : c.auth === 'read' ? { 'x-api-key': READ_KEY } : headers;
      // Each wrong key comes from an address of its own: the failed-key limit would otherwise (rightly) block
      // the address, and every later case would get 429 without reaching what it tests.
      const remoteAddress = c.auth === 'wrong' ? `10.${(guesser >> 8) & 255}.${guesser++ & 255}.1` : '127.0.0.1';
      return app.inject({ ...c.request, remoteAddress, headers: { ...key, ...c.request.headers } });
    };

    // Warm up lazily initialised code (decoders, multipart) before taking the memory baseline, and fill every
    // inference slot with near-limit photos: each worker's WebAssembly heap grows once to what a photo of the
    // largest decoded size (FACEDB_MAX_IMAGE_SIDE) needs, and the allocator's arenas to what concurrent decodes
    // need, and both keep it. That is the bound; memory must then stay flat through the corpus.
    for (const c of corpus.slice(0, 40)) await send(c);
    gc();
    const idle = process.memoryUsage().rss;
    const nearLimit = corpus.filter((c) => c.kind.startsWith('near-limit photo'));
    for (let round = 0; round < 2; round++) {
      for (const response of await Promise.all(nearLimit.slice(0, batch).map(send))) assert.ok(response.statusCode < 500, response.body);
    }
    gc();
    const baseline = process.memoryUsage();

    const failures: string[] = [];
    const started = performance.now();
    const decoded: string[] = [];
    const decodable: Array<{ where: string; image: Buffer; status: number }> = [];
    const byKind = new Map<string, number>();
    for (let i = 0; i < corpus.length; i += batch) {
      const slice = corpus.slice(i, i + batch);
      const responses = await Promise.all(slice.map(send));
      responses.forEach((response, j) => {
        const c = slice[j] as Case;
        byKind.set(c.kind, (byKind.get(c.kind) ?? 0) + 1);
        const where = `#${i + j} ${c.kind} ${String(c.request.method)} ${JSON.stringify(c.request.url)}`;
        if (!response.headers['x-request-id']) failures.push(`${where}: no request id`);
        if (c.auth === 'none' && response.statusCode !== 401) failures.push(`${where}: no key got ${response.statusCode}`);
        if (c.auth === 'wrong' && response.statusCode !== 401) failures.push(`${where}: a wrong key got ${response.statusCode}`);
        if (c.auth === 'read' && response.statusCode !== 403) failures.push(`${where}: a read key on an admin route got ${response.statusCode}`);
        if (c.kind.startsWith('broken framing') && response.statusCode !== 400) failures.push(`${where}: status ${response.statusCode}`);
        if (c.mayDecode) decodable.push({ where, image: c.mayDecode, status: response.statusCode });
        if (c.mayDecode && response.statusCode === 200) {
          decoded.push(where);
          return;
        }
        if (response.statusCode < 400 || response.statusCode >= 500) {
          failures.push(`${where}: status ${response.statusCode} ${response.body.slice(0, 200)}`);
          return;
        }
        const envelope = wire.errorEnvelope.safeParse(JSON.parse(response.body || 'null'));
        if (!envelope.success) failures.push(`${where}: no envelope: ${response.body.slice(0, 200)}`);
        else if (/\n\s+at /.test(envelope.data.error.message)) failures.push(`${where}: stack trace in message`);
      });
    }
    console.log(`fuzz: ${corpus.length} cases in ${Math.round(performance.now() - started)} ms; ${decoded.length} bit-flipped JPEGs decoded`);
    assert.deepEqual(failures, [], `${failures.length} bad answers`);
    // The server accepted exactly the images the decoder can read (with the same limits), and refused the rest.
    const limits = { maxPixels: service.config.maxPixels, maxFileBytes: BODY_LIMIT };
    for (const { where, image, status } of decodable) {
      const readable = await decodeImage(image, limits).then(
        () => true,
        () => false,
      );
      assert.equal(status === 200, readable, `${where}: answered ${status} but the image is ${readable ? '' : 'not '}decodable`);
    }
    assert.ok(decoded.some((where) => where.includes('near-limit photo')), 'the near-limit photos were identified');

    // Still serving: a real identify works and the gallery is as it was.
    const bono = await app.inject({ method: 'POST', url: '/v1/identify', headers, payload: { image: (await readFile(lfwPhoto('Bono', 1))).toString('base64') } });
    assert.equal(bono.statusCode, 200);
    assert.equal(wire.identifyResponse.parse(bono.json()).faces[0]?.match?.person, 'Bono');
    assert.equal(await galleryDigest(service), galleryBefore, 'the gallery holds exactly what it held before');

    // Memory settles: generous margins, since sharp/libvips keep caches and the allocator keeps pages.
    gc();
    await new Promise((resolve) => setTimeout(resolve, 200));
    gc();
    const now = process.memoryUsage();
    const mb = (n: number): number => Math.round(n / 1024 / 1024);
    console.log(`fuzz memory: RSS ${mb(idle)} idle → ${mb(baseline.rss)} after near-limit photos → ${mb(now.rss)} MB; heap ${mb(baseline.heapUsed)} → ${mb(now.heapUsed)} MB`);
    assert.ok(now.heapUsed - baseline.heapUsed < 64 * 1024 * 1024, `heap grew ${mb(baseline.heapUsed)} → ${mb(now.heapUsed)} MB`);
    // The allocators settle within a few rounds of near-limit photos (measured: +320, +100, +6, +20, +5 MB per
    // round of four), so a leak of even 300 KB per case would show above this margin.
    assert.ok(now.rss - baseline.rss < 400 * 1024 * 1024, `RSS grew ${mb(baseline.rss)} → ${mb(now.rss)} MB`);
    // The bound itself: two workers' heaps at the largest decoded size plus the decodes in flight, over idle.
    assert.ok(now.rss - idle < 1024 * 1024 * 1024, `RSS grew ${mb(idle)} → ${mb(now.rss)} MB over idle`);
  });
});

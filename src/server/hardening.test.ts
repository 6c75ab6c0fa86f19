import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import sharp from 'sharp';
import { tempDir, testImage } from '../../test/fixtures.js';
import { loadConfig, type ConfigInput } from '../config/config.js';
import type { FaceAnalysis, FaceEngine } from '../engine/engine.js';
import type { ErrorCode } from '../errors/errors.js';
import { openFacedb } from '../facedb.js';
import type { FaceService } from '../services/face-service.js';
import { buildServer } from './app.js';
import { AUTH_FAILURES_PER_WINDOW, AuthFailureLimiter, clientNetwork } from './auth.js';
import { NOT_FOUND_PER_WINDOW } from './probing.js';
import { routeOptions } from './docs.js';
import * as wire from './wire.js';

/**
 * The attacks and careless uses a hardening review found. None of them is about the face model, so the
 * engine here is a fake that finds one face in the middle of any photo, after `delayMs` (one place to change).
 */
const ADMIN = 'hardening-admin-key-00001';
const admin = { authorization: `Bearer ${ADMIN}` };

interface FakeEngine extends FaceEngine {
  /** Most analyze calls that were in flight at once, and the sizes of the images it was given. */
  peak: number;
  seen: Array<{ width: number; height: number }>;
}

/** `hold`: every analysis waits for it first (a burst then meets a full server however slowly its requests arrive). */
function fakeEngine(delayMs = 0, hold: Promise<void> = Promise.resolve()): FakeEngine {
  let running = 0;
  const engine: FakeEngine = {
    model: { id: 'fake', version: '1', dimensions: 4, metric: 'euclidean', defaultThreshold: 0.5 },
    landmarkLayout: 'centre1',
    calibration: undefined,
    queueDepth: 0,
    peak: 0,
    seen: [],
    async analyze(image) {
      running += 1;
      engine.peak = Math.max(engine.peak, running);
      engine.seen.push({ width: image.width, height: image.height });
      await hold;
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      running -= 1;
      const face: FaceAnalysis = {
        box: { x: image.width / 4, y: image.height / 4, width: image.width / 2, height: image.height / 2 },
        detectionScore: 0.99,
        landmarks: [[image.width / 2, image.height / 2]],
        embedding: new Float32Array([0.5, 0.5, 0.5, 0.5]),
        attributes: {
          emotion: { neutral: 1, happy: 0, sad: 0, angry: 0, fear: 0, disgust: 0, surprise: 0 },
          age: 30,
          gender: 'female',
          genderProbability: 0.9,
        },
      };
      return [face];
    },
    close: async () => {},
  };
  return engine;
}

function expectError(response: LightMyRequestResponse, status: number, code: ErrorCode): void {
  assert.equal(response.statusCode, status, response.body);
  assert.equal(wire.errorEnvelope.parse(response.json()).error.code, code, response.body);
  assert.ok(response.headers['x-request-id'], 'a request id');
}

function multipartBody(boundary: string, file: Uint8Array): Buffer {
  return Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`),
    file,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
}

/** Sends raw bytes over a fresh connection and returns everything the server answers before closing. */
function rawExchange(port: number, bytes: string, waitMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
    socket.setTimeout(waitMs, () => socket.destroy());
    socket.write(bytes);
  });
}

void describe('hardening: open mode, framing, limits, headers, memory', () => {
  let dir: string;
  let photo: Buffer;
  const services: FaceService[] = [];
  const apps: FastifyInstance[] = [];
  const config = (overrides: ConfigInput = {}) => loadConfig({ db: join(dir, 'gallery.sqlite'), workers: 1, apiKeys: `admin:${ADMIN}`, ...overrides }, {});

  /** A server over its own gallery file and the given engine; closed after the suite. */
  async function server(
    overrides: ConfigInput = {},
    engine: FaceEngine = fakeEngine(),
    authLimiter?: AuthFailureLimiter,
  ): Promise<{ app: FastifyInstance; service: FaceService }> {
    const settings = config({ db: join(dir, `gallery-${apps.length}.sqlite`), ...overrides });
    const service = await openFacedb({ ...settings, engine });
    const app = await buildServer(service, settings, authLimiter ? { authLimiter } : {});
    services.push(service);
    apps.push(app);
    return { app, service };
  }

  before(async () => {
    dir = await tempDir('facedb-hardening-');
    photo = await readFile(testImage('Bono_0002.jpg'));
  });
  after(async () => {
    for (const app of apps) await app.close();
    for (const service of services) await service.close();
  });

  void describe('open mode (no keys) serves only this machine', () => {
    let open: FastifyInstance;
    before(async () => {
      ({ app: open } = await server({ apiKeys: '', host: '127.0.0.1', port: 8080 }));
    });

    void it('refuses a Host that is not loopback or the listen address (DNS rebinding)', async () => {
      for (const host of ['rebind.evil.example', 'rebind.evil.example:8080', '10.0.0.5:8080', '127.0.0.1.evil.example', 'localhost.evil.example:8080']) {
        expectError(await open.inject({ url: '/v1/people', headers: { host } }), 403, 'forbidden');
        expectError(await open.inject({ method: 'DELETE', url: '/v1/people/1', headers: { host } }), 403, 'forbidden');
      }
      for (const host of ['127.0.0.1:8080', 'localhost:8080', 'LOCALHOST', '[::1]:8080', '127.0.0.1']) {
        assert.equal((await open.inject({ url: '/v1/people', headers: { host } })).statusCode, 200, host);
      }
    });

    void it('refuses requests another web site makes, and serves its own page', async () => {
      const create = (headers: Record<string, string>) =>
        open.inject({ method: 'POST', url: '/v1/people', payload: { name: 'Bono' }, headers: { host: '127.0.0.1:8080', ...headers } });
      expectError(await create({ origin: 'https://evil.example' }), 403, 'forbidden');
      expectError(await create({ origin: 'http://127.0.0.1:3000' }), 403, 'forbidden');
      expectError(await create({ origin: 'null' }), 403, 'forbidden');
      expectError(await create({ 'sec-fetch-site': 'cross-site' }), 403, 'forbidden');
      expectError(await create({ 'sec-fetch-site': 'same-site' }), 403, 'forbidden');
      const enroll = await open.inject({
        method: 'POST',
        url: '/v1/people/1/faces',
        payload: multipartBody('b0undary', photo),
        headers: { host: '127.0.0.1:8080', origin: 'https://evil.example', 'content-type': 'multipart/form-data; boundary=b0undary' },
      });
      expectError(enroll, 403, 'forbidden');
      assert.equal((await open.inject({ url: '/v1/people', headers: { host: '127.0.0.1:8080' } })).json<{ total: number }>().total, 0, 'nothing was created');

      // The page's own calls: same origin, or a tool without browser headers.
      assert.equal((await create({ origin: 'http://127.0.0.1:8080', 'sec-fetch-site': 'same-origin' })).statusCode, 201);
      assert.equal((await create({})).statusCode, 200);
      // A link from another site to the page itself is a harmless navigation.
      const page = await open.inject({ url: '/', headers: { host: 'localhost:8080', 'sec-fetch-site': 'cross-site' } });
      assert.equal(page.statusCode, 200);
      // ...but not to the API.
      expectError(await open.inject({ url: '/v1/people', headers: { host: 'localhost:8080', 'sec-fetch-site': 'cross-site' } }), 403, 'forbidden');
    });

    void it('accepts the listen address as a Host', async () => {
      const { app } = await server({ apiKeys: '', host: '127.0.0.2' });
      assert.equal((await app.inject({ url: '/v1/people', headers: { host: '127.0.0.2:9999' } })).statusCode, 200);
    });
  });

  void describe('malformed multipart framing is the client\'s error', () => {
    void it('answers 400 validation_failed to a truncated body, a missing and a wrong boundary', async () => {
      const { app } = await server();
      const body = multipartBody('XyZ', photo);
      const cases: Array<[string, string, Buffer]> = [
        ['truncated', 'multipart/form-data; boundary=XyZ', body.subarray(0, 200)],
        ['truncated in the file', 'multipart/form-data; boundary=XyZ', body.subarray(0, body.length - 30)],
        ['no boundary', 'multipart/form-data', body],
        ['wrong boundary', 'multipart/form-data; boundary=other', body],
        ['not multipart at all', 'multipart/form-data; boundary=XyZ', Buffer.from('hello world')],
      ];
      for (const url of ['/v1/identify', '/v1/people/1/faces']) {
        if (url.endsWith('faces')) await app.inject({ method: 'POST', url: '/v1/people', payload: { name: 'Someone' }, headers: admin });
        for (const [name, type, payload] of cases) {
          const response = await app.inject({ method: 'POST', url, payload, headers: { ...admin, 'content-type': type } });
          expectError(response, 400, 'validation_failed');
          assert.match(response.json<wire.ErrorWire>().error.message, /multipart/, `${url} ${name}`);
        }
      }
    });
  });

  void describe('Node\'s own answers, static files and headers', () => {
    void it('wraps Node\'s 400 (unparsable request) and 408 (too slow) in the error envelope with a request id', async () => {
      const { app } = await server({ requestTimeoutMs: 1000 });
      await app.listen({ host: '127.0.0.1', port: 0 });
      const { port } = app.server.address() as AddressInfo;
      const check = (answer: string, status: number, code: ErrorCode): void => {
        assert.match(answer, new RegExp(`^HTTP/1\\.1 ${status} `), answer);
        assert.match(answer, /\r\nx-request-id: [\w-]{8,}\r\n/i);
        const body = answer.slice(answer.indexOf('\r\n\r\n') + 4);
        assert.equal(wire.errorEnvelope.parse(JSON.parse(body)).error.code, code);
      };
      check(await rawExchange(port, 'GARBAGE\r\n\r\n'), 400, 'validation_failed');
      check(await rawExchange(port, 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header\r\n\r\n'), 400, 'validation_failed');
      // A request that never finishes: Node reports ERR_HTTP_REQUEST_TIMEOUT on its next connection check (up to
      // 30 s later), so the test hands the server that same report on a real, half-sent connection.
      app.server.once('connection', (socket: Socket) => {
        setTimeout(() => app.server.emit('clientError', Object.assign(new Error('Request Timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' }), socket), 100);
      });
      check(await rawExchange(port, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n'), 408, 'request_timeout');
    });

    void it('answers 403 or 404 to static-file traversal, never 400', async () => {
      const { app } = await server();
      for (const url of ['/%00', '/app.js%00.html']) expectError(await app.inject({ url }), 403, 'forbidden');
      for (const url of ['/../package.json', '/..%2f..%2fpackage.json', '/%2e%2e/%2e%2e/package.json', '/.env']) {
        expectError(await app.inject({ url }), 404, 'not_found');
      }
    });

    void it('sends security headers with a content security policy', async () => {
      const { app } = await server();
      for (const url of ['/', '/v1/people', '/nowhere']) {
        const response = await app.inject({ url, headers: admin });
        const csp = String(response.headers['content-security-policy']);
        assert.match(csp, /default-src 'self'/, url);
        assert.match(csp, /script-src 'self'(;|$)/, url);
        assert.match(csp, /frame-ancestors 'none'/, url);
        assert.equal(response.headers['x-content-type-options'], 'nosniff', url);
        assert.ok(response.headers['x-frame-options'], url);
        assert.equal(response.headers['referrer-policy'], 'no-referrer', url);
      }
    });
  });

  void describe('wrong API keys are rate limited', () => {
    void it('answers 429 after too many wrong keys from one address, sparing other addresses and valid traffic', async () => {
      const { app } = await server();
      const from = (remoteAddress: string, headers: Record<string, string>) => app.inject({ url: '/v1/people', remoteAddress, headers });
      // Valid keys and missing keys are not guesses: any number of them passes.
      for (let i = 0; i < AUTH_FAILURES_PER_WINDOW * 3; i++) assert.equal((await from('10.0.0.1', admin)).statusCode, 200);
      for (let i = 0; i < AUTH_FAILURES_PER_WINDOW * 2; i++) expectError(await from('10.0.0.1', {}), 401, 'unauthorized');
      assert.equal((await from('10.0.0.1', admin)).statusCode, 200);

      for (let i = 0; i < AUTH_FAILURES_PER_WINDOW; i++) {
        expectError(await from('10.0.0.2', { 'x-api-key': `wrong-guess-number-${i}-padding` }), 401, 'unauthorized');
      }
      const limited = await from('10.0.0.2', { 'x-api-key': 'one-more-wrong-guess-000' });
      expectError(limited, 429, 'rate_limited');
      assert.ok(Number(limited.headers['retry-after']) > 0);
      // Blocked means blocked: even the right key cannot be told apart from a wrong one now.
      expectError(await from('10.0.0.2', admin), 429, 'rate_limited');
      assert.equal((await from('10.0.1.3', admin)).statusCode, 200, 'another network is not affected');
    });

    void it('also limits one wrong key tried from many networks, and forgets after the window', () => {
      let now = 0;
      const limiter = new AuthFailureLimiter(3, 100, 1000, () => now);
      for (let i = 0; i < 3; i++) limiter.recordFailure(`10.1.${i}.0/24`, 'abc');
      assert.equal(limiter.blockedFor('10.1.9.0/24', 'abc'), 1);
      assert.equal(limiter.blockedFor('10.1.9.0/24', 'other'), 0);
      now = 1000;
      assert.equal(limiter.blockedFor('10.1.9.0/24', 'abc'), 0);
    });

    void it('counts a network, not an address: rotating 127.0.0.x or an IPv6 /64 gets no more tries', async () => {
      assert.equal(clientNetwork('127.0.0.17'), '127.0.0.0/24');
      assert.equal(clientNetwork('::ffff:127.0.0.200'), '127.0.0.0/24');
      assert.equal(clientNetwork('2001:db8:1:2::1'), '2001:db8:1:2::/64');
      assert.equal(clientNetwork('2001:db8:1:2:aaaa:bbbb:cccc:dddd'), '2001:db8:1:2::/64');
      assert.equal(clientNetwork('::1'), '0:0:0:0::/64');
      const { app } = await server();
      const from = (remoteAddress: string, headers: Record<string, string>) => app.inject({ url: '/v1/people', remoteAddress, headers });
      for (let i = 0; i < AUTH_FAILURES_PER_WINDOW; i++) {
        expectError(await from(`127.0.0.${i + 1}`, { 'x-api-key': `rotating-guess-${i}-padding-00` }), 401, 'unauthorized');
      }
      expectError(await from('127.0.0.250', { 'x-api-key': 'rotating-guess-last-padding' }), 429, 'rate_limited');
      expectError(await from('127.0.0.251', admin), 429, 'rate_limited');
      for (let i = 0; i < AUTH_FAILURES_PER_WINDOW; i++) {
        expectError(await from(`2001:db8:7:7::${(i + 1).toString(16)}`, { 'x-api-key': `v6-guess-${i}-padding-0000` }), 401, 'unauthorized');
      }
      expectError(await from('2001:db8:7:7:ffff::1', admin), 429, 'rate_limited');
      assert.equal((await from('2001:db8:7:8::1', admin)).statusCode, 200, 'the next /64 is another client');
    });

    void it('past the global limit, networks without a recent valid key get 429 and working users are still served', async () => {
      const limiter = new AuthFailureLimiter(AUTH_FAILURES_PER_WINDOW, 10);
      const { app } = await server({}, fakeEngine(), limiter);
      const from = (remoteAddress: string, headers: Record<string, string>) => app.inject({ url: '/v1/people', remoteAddress, headers });
      assert.equal((await from('192.0.2.1', admin)).statusCode, 200, 'a user working before the attack');
      // One guess from each of ten networks: no network reaches its own limit, everyone together reaches 10.
      for (let i = 0; i < 10; i++) expectError(await from(`198.51.${i}.1`, { 'x-api-key': `spread-guess-${i}-padding00` }), 401, 'unauthorized');
      expectError(await from('198.51.99.1', { 'x-api-key': 'spread-guess-next-padding0' }), 429, 'rate_limited');
      expectError(await from('198.51.98.1', admin), 429, 'rate_limited');
      assert.equal((await from('192.0.2.1', admin)).statusCode, 200);
    });

    void it('reads x-api-key beside an Authorization header of another scheme', async () => {
      const { app } = await server();
      const response = await app.inject({ url: '/v1/people', headers: { authorization: 'Basic dXNlcjpwYXNz', 'x-api-key': ADMIN } });
      assert.equal(response.statusCode, 200, response.body);
      expectError(await app.inject({ url: '/v1/people', headers: { authorization: 'Basic dXNlcjpwYXNz' } }), 401, 'unauthorized');
    });

    void it('limits requests for ids that do not exist, per key and network, and only those', async () => {
      const { app } = await server();
      const get = (url: string, remoteAddress = '10.9.9.9') => app.inject({ url, remoteAddress, headers: admin });
      const person = wire.person.parse((await app.inject({ method: 'POST', url: '/v1/people', headers: admin, payload: { name: 'Ada' } })).json());
      for (let id = 1000; id < 1000 + NOT_FOUND_PER_WINDOW; id++) expectError(await get(`/v1/faces/${id}/image`), 404, 'not_found');
      const limited = await get(`/v1/people/${person.id}`);
      expectError(limited, 429, 'rate_limited');
      assert.ok(Number(limited.headers['retry-after']) > 0);
      assert.equal((await get('/v1/people')).statusCode, 200, 'routes without an id are not affected');
      expectError(await get(`/v1/people/${person.id}`, '10.9.10.1'), 429, 'rate_limited'); // the key is counted too
    });
  });

  void describe('route scopes are declared once', () => {
    void it('refuses a route whose documented security disagrees with its scope', async () => {
      const { app } = await server();
      const options = routeOptions({ summary: 'x', tags: [], scope: 'admin', responses: {} });
      assert.deepEqual(options.config, { scope: 'admin', upload: {} });
      const { default: Fastify } = await import('fastify');
      const { registerAuth } = await import('./auth.js');
      const other = Fastify();
      registerAuth(other, { keys: [], listenHost: '127.0.0.1' });
      assert.throws(() => other.get('/v1/lying', { config: { scope: 'public' }, schema: options.schema }, () => ({})), /does not match its scope/);
      await other.close();
      const openapi = (await app.inject({ url: '/openapi.json' })).json<{ paths: Record<string, Record<string, { security: unknown[] }>> }>();
      assert.deepEqual(openapi.paths['/v1/people']?.post?.security, [{ bearer: [] }, { apiKey: [] }]);
      assert.deepEqual(openapi.paths['/healthz']?.get?.security, []);
    });
  });

  void describe('memory: admission cap, bounded concurrency, photos shrunk while decoding', () => {
    void it('admits at most concurrency + maxQueue requests, runs at most `concurrency` photos at once and 503s the rest', async () => {
      // The admitted photos wait in the engine until every refusal is back (or 10 s), so a loaded machine that sends
      // the burst slowly cannot let the first photos finish and free their places before the last requests arrive.
      let release = (): void => {};
      const hold = new Promise<void>((resolve) => {
        release = resolve;
      });
      const safety = setTimeout(release, 10_000);
      const engine = fakeEngine(300, hold);
      const { app } = await server({ maxQueue: 3, workers: 1 }, engine);
      await app.listen({ host: '127.0.0.1', port: 0 });
      const { port } = app.server.address() as AddressInfo;
      const body = multipartBody('burst', photo);
      const send = () =>
        fetch(`http://127.0.0.1:${port}/v1/identify`, {
          method: 'POST',
          headers: { ...admin, 'content-type': 'multipart/form-data; boundary=burst' },
          body,
        }).then(async (response) => ({ status: response.status, retryAfter: response.headers.get('retry-after'), body: await response.text() }));
      let answered = 0;
      const answers = await Promise.all(
        Array.from({ length: 16 }, () =>
          send().then((answer) => {
            answered += 1;
            if (answered === 11) release();
            return answer;
          }),
        ),
      );
      clearTimeout(safety);
      const ok = answers.filter((answer) => answer.status === 200).length;
      const refused = answers.filter((answer) => answer.status === 503);
      // workers 1: two photos at once, three waiting: five admitted, the other eleven refused.
      assert.equal(ok, 5, JSON.stringify(answers.map((answer) => answer.status)));
      assert.equal(refused.length, 11);
      for (const answer of refused) {
        assert.equal(answer.retryAfter, '1');
        assert.equal(wire.errorEnvelope.parse(JSON.parse(answer.body)).error.code, 'overloaded');
      }
      assert.equal(engine.peak, 2, 'never more than two photos analysed at once');
      // Once the burst is over the server takes work again.
      assert.equal((await send()).status, 200);
    });

    void it('shrinks a large photo while decoding and reports boxes in the original pixels', async () => {
      const engine = fakeEngine();
      const { app } = await server({ maxImageSide: 512 }, engine);
      const big = await sharp(photo).resize(3000, 2000, { fit: 'fill' }).png({ compressionLevel: 1 }).toBuffer();
      const response = await app.inject({
        method: 'POST',
        url: '/v1/detect',
        payload: multipartBody('big', big),
        headers: { ...admin, 'content-type': 'multipart/form-data; boundary=big' },
      });
      assert.equal(response.statusCode, 200, response.body);
      assert.deepEqual(engine.seen.at(-1), { width: 512, height: 341 }, 'the engine saw the shrunk photo');
      const result = wire.detectResponse.parse(response.json());
      assert.deepEqual(result.image, { width: 3000, height: 2000, format: 'png' });
      // The fake engine boxes the middle half of what it saw: in original pixels that is 750,500 1500x1000.
      const box = result.faces[0]?.box;
      assert.ok(box);
      assert.ok(Math.abs(box.x - 750) <= 3 && Math.abs(box.y - 500) <= 3, JSON.stringify(box));
      assert.ok(Math.abs(box.width - 1500) <= 3 && Math.abs(box.height - 1000) <= 3, JSON.stringify(box));
    });
  });
});

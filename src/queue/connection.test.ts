import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { inspect } from 'node:util';
import { isFacedbError } from '../errors/errors.js';
import { freePort, REDIS_SERVER, startRedis, type TestRedis } from '../../test/redis-server.js';
import { checkQueueServer, parseQueueUrl } from './connection.js';

void describe('parseQueueUrl', () => {
  void it('reads host, port, database and credentials', () => {
    assert.deepEqual(parseQueueUrl('redis://queue.example:6380/3').connection, {
      host: 'queue.example',
      port: 6380,
      db: 3,
      connectTimeout: 5000,
      maxRetriesPerRequest: null,
    });
    const secret = parseQueueUrl('rediss://worker:p%40ss@[::1]');
    assert.equal(secret.connection.host, '::1');
    assert.equal(secret.connection.port, 6379);
    assert.equal(secret.connection.db, 0);
    assert.equal(secret.connection.username, 'worker');
    assert.equal(secret.connection.password, 'p@ss');
    assert.deepEqual(secret.connection.tls, { servername: '::1' });
    assert.equal(secret.display, 'rediss://worker:***@[::1]');
  });

  void it('refuses anything but a redis URL, without repeating a password', () => {
    for (const [text, why] of [
      ['localhost:6379', /redis:\/\/ or rediss:\/\//],
      ['http://localhost:6379', /http:\/\/ is not redis/],
      ['redis://', /malformed|host is missing/],
      ['redis://host:99999', /malformed/],
      ['redis://host:6379/queue', /database number/],
      ['redis://host:6379/1?tls=1', /query strings/],
      ['redis://u:hunter2-secret@host:6379/x', /database number/],
      ['not a url at all', /malformed/],
    ] as const) {
      assert.throws(
        () => parseQueueUrl(text),
        (error: unknown) => {
          assert.ok(isFacedbError(error));
          assert.equal(error.code, 'invalid_input', text);
          assert.match(error.message, why, text);
          assert.ok(!error.message.includes('hunter2'), error.message);
          return true;
        },
      );
    }
  });
});

void describe('checkQueueServer', () => {
  let redis: TestRedis | undefined;
  before(async () => {
    if (REDIS_SERVER !== undefined) redis = await startRedis();
  });
  after(async () => {
    await redis?.stop();
  });

  void it('accepts a running Redis', { skip: REDIS_SERVER === undefined && 'no redis-server' }, async () => {
    await checkQueueServer(parseQueueUrl(redis!.url));
  });

  void it('says at once that nothing listens, without the password', async () => {
    const port = await freePort();
    await assert.rejects(checkQueueServer(parseQueueUrl(`redis://ada:hunter2-secret@127.0.0.1:${port}`)), (error: unknown) => {
      assert.ok(isFacedbError(error));
      assert.equal(error.code, 'unreachable');
      assert.match(error.message, new RegExp(`cannot reach the queue at redis://ada:\\*\\*\\*@127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
      assert.ok(!inspect(error, { depth: 10 }).includes('hunter2'));
      return true;
    });
  });

  void it('gives up on a server that accepts connections but never answers', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    try {
      await assert.rejects(checkQueueServer(parseQueueUrl(`redis://127.0.0.1:${port}`), 300), /cannot reach the queue at .*no answer within 0.3 s/);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { loadConfig, parseApiKeys } from '../config/config.js';
import { isLoopback } from './auth.js';

const sha = (key: string): string => createHash('sha256').update(key).digest('hex');

void describe('API key settings', () => {
  void it('reads a key file: one scope:key per line, # comments, pre-hashed keys', () => {
    const text = ['# facedb keys', 'admin:first-admin-key-000001  # ops', '', `read:sha256:${sha('a-read-key-0000001').toUpperCase()}`].join('\n');
    assert.deepEqual(parseApiKeys(text, 'keys.txt'), [
      { scope: 'admin', sha256: sha('first-admin-key-000001') },
      { scope: 'read', sha256: sha('a-read-key-0000001') },
    ]);
  });

  void it('refuses bad entries at start-up, naming the entry but never echoing the key', () => {
    assert.throws(() => parseApiKeys('write:some-long-key-000001', 'keys.txt'), /keys\.txt entry 1 must look like/);
    assert.throws(() => parseApiKeys('read:short', 'keys.txt'), /at least 16 characters/);
    assert.throws(() => parseApiKeys('read:sha256:abc', 'keys.txt'), /64 hex digits/);
    assert.throws(() => loadConfig({}, { FACEDB_API_KEYS: 'admin:secret-x' }), (error: Error) => !error.message.includes('secret'));
  });

  void it('parses the environment once and survives re-validation of a parsed config', () => {
    const config = loadConfig({}, { FACEDB_API_KEYS: 'admin:env-admin-key-00001,read:env-read-key-000001', FACEDB_PORT: '0' });
    assert.equal(config.apiKeys.length, 2);
    assert.equal(config.port, 0);
    assert.deepEqual(loadConfig(config, {}).apiKeys, config.apiKeys);
  });

  void it('knows loopback hosts', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', 'localhost']) assert.ok(isLoopback(host), host);
    for (const host of ['0.0.0.0', '::', '192.168.1.10', 'example.com']) assert.ok(!isLoopback(host), host);
  });
});

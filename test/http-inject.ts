/** What the in-process HTTP tests share: the keys, hand-made multipart bodies and the error-envelope check. */
import assert from 'node:assert/strict';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import type { ErrorCode } from '../src/errors/errors.js';
import * as wire from '../src/server/wire.js';

export const ADMIN = 'admin-key-for-tests-0001';
export const READ = 'read-key-for-tests-00001';
export const admin = { authorization: `Bearer ${ADMIN}` };
export const reader = { 'x-api-key': READ };

/** A multipart body built by hand, so each test controls exactly what goes over the wire. */
export function multipart(parts: Array<{ name: string; file?: Uint8Array; value?: string; type?: string }>): InjectOptions {
  const boundary = '----facedb-test-boundary';
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const disposition = part.file ? `form-data; name="${part.name}"; filename="${part.name}.bin"` : `form-data; name="${part.name}"`;
    const type = part.file ? `\r\nContent-Type: ${part.type ?? 'application/octet-stream'}` : '';
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}${type}\r\n\r\n`));
    chunks.push(Buffer.from(part.file ?? part.value ?? ''));
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(chunks), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

export function withAuth(options: InjectOptions, headers: Record<string, string>): InjectOptions {
  return { ...options, headers: { ...options.headers, ...headers } };
}

export function expectError(response: LightMyRequestResponse, status: number, code: ErrorCode): void {
  assert.equal(response.statusCode, status, response.body);
  const body = wire.errorEnvelope.parse(response.json());
  assert.equal(body.error.code, code);
  assert.ok(!/\n\s+at /.test(body.error.message), 'no stack trace in the message');
  assert.ok(response.headers['x-request-id']);
}

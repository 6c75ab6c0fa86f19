import type { IncomingMessage } from 'node:http';
import type { FastifyRequest } from 'fastify';
import { FacedbError } from '../errors/errors.js';

/*
 * The JSON body parser, with its limits checked while the bytes arrive, before anything is parsed.
 *
 * No route's body nests deeper than an object holding an array of strings, or holds more than a few dozen
 * values; a photo is one long string. So a body is refused as soon as it opens more than MAX_JSON_DEPTH
 * containers, puts more than MAX_JSON_ITEMS values in one container (or more than the route's own image
 * limit in an image array), or has more than MAX_JSON_VALUES values in all; only a body within those limits
 * reaches JSON.parse. The scan looks at bytes, not characters: every structural character of JSON is ASCII,
 * and no byte of a multi-byte UTF-8 sequence is below 0x80. It costs one pass over the body, and jumps over
 * strings with indexOf, so a 20 MB photo costs next to nothing.
 */

/** Containers open at once: {"image": [ "…" ]} needs 2. */
export const MAX_JSON_DEPTH = 4;
/** Values in one object or array (image arrays: the route's own limit). */
export const MAX_JSON_ITEMS = 64;
/** Values in the whole body. */
export const MAX_JSON_VALUES = 1_000;

const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
/** Top-level keys longer than this are not image fields: not worth remembering. */
const KEY_CAPTURE_MAX = 64;

interface Container {
  object: boolean;
  /** Commas seen: the container holds commas + 1 values once it has any. */
  commas: number;
  limit: number;
  /** The name of the array when it is a top-level member (for its image limit). */
  name: string | undefined;
}

function tooMuch(message: string): FacedbError {
  return new FacedbError('validation_failed', `JSON body refused: ${message}`);
}

/**
 * Checks a JSON body's shape as its bytes arrive (`feed`), throwing at the first byte that breaks a limit.
 * `imageLimits`: the route's image fields (top-level keys) and how many images each takes.
 */
export class JsonShapeGuard {
  private readonly stack: Container[] = [];
  private values = 0;
  private inString = false;
  private escaped = false;
  /** Bytes of the top-level key being read, or undefined when not reading one. */
  private key: number[] | undefined;
  private expectKey = false;
  private lastKey: string | undefined;

  constructor(private readonly imageLimits: Readonly<Record<string, number>> = {}) {}

  feed(chunk: Uint8Array): void {
    let nextBackslash = -2;
    const buffer = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let i = 0;
    while (i < buffer.length) {
      if (this.inString) {
        if (this.escaped) {
          this.escaped = false;
          if (this.key) this.key.push(buffer[i]!);
          i += 1;
          continue;
        }
        // Jump to the next quote or backslash; the backslash position is found once per chunk and reused.
        if (nextBackslash !== -1 && nextBackslash < i) nextBackslash = buffer.indexOf(BACKSLASH, i);
        const quote = buffer.indexOf(QUOTE, i);
        const stop = Math.min(quote === -1 ? Infinity : quote, nextBackslash === -1 ? Infinity : nextBackslash);
        const end = stop === Infinity ? buffer.length : stop;
        if (this.key && this.key.length <= KEY_CAPTURE_MAX) for (let k = i; k < end; k++) this.key.push(buffer[k]!);
        if (stop === Infinity) return;
        if (stop === nextBackslash) {
          this.escaped = true;
          i = stop + 1;
          continue;
        }
        this.inString = false;
        i = stop + 1;
        continue;
      }
      this.structural(buffer[i]!);
      i += 1;
    }
  }

  private structural(byte: number): void {
    const top = this.stack[this.stack.length - 1];
    switch (byte) {
      case QUOTE:
        this.inString = true;
        if (this.expectKey && this.stack.length === 1) this.key = [];
        return;
      case OPEN_OBJECT:
      case OPEN_ARRAY: {
        this.counted();
        if (this.stack.length >= MAX_JSON_DEPTH) throw tooMuch(`it nests deeper than ${MAX_JSON_DEPTH} levels`);
        const name = byte === OPEN_ARRAY && this.stack.length === 1 && top?.object ? this.lastKey : undefined;
        const imageLimit = name === undefined ? undefined : this.imageLimits[name];
        this.stack.push({
          object: byte === OPEN_OBJECT,
          commas: 0,
          limit: imageLimit ?? MAX_JSON_ITEMS,
          name: imageLimit === undefined ? undefined : name,
        });
        this.expectKey = byte === OPEN_OBJECT;
        return;
      }
      case CLOSE_OBJECT:
      case CLOSE_ARRAY:
        this.stack.pop();
        this.expectKey = false;
        return;
      case COMMA:
        this.counted();
        if (!top) return; // not JSON: JSON.parse refuses it
        top.commas += 1;
        if (top.commas >= top.limit) {
          throw top.name === undefined
            ? tooMuch(`an ${top.object ? 'object' : 'array'} holds more than ${top.limit} values`)
            : new FacedbError('validation_failed', `at most ${top.limit} images in "${top.name}"`);
        }
        this.expectKey = top.object;
        return;
      case COLON:
        if (this.key) this.lastKey = Buffer.from(this.key).toString('latin1');
        this.key = undefined;
        this.expectKey = false;
        return;
      default:
      // Scalars need no look: every value but a container's first follows a comma, and each container is counted.
    }
  }

  /** Values so far, over-counted by at most one: commas plus containers opened. */
  private counted(): void {
    this.values += 1;
    if (this.values > MAX_JSON_VALUES) throw tooMuch(`it holds more than ${MAX_JSON_VALUES} values`);
  }
}

/** Refuses `__proto__` and `constructor` keys anywhere (prototype poisoning), as Fastify's own parser did. */
function refusePoisonKeys(key: string, value: unknown): unknown {
  if (key === '__proto__' || key === 'constructor') throw tooMuch(`the key "${key}" is not allowed`);
  return value;
}

/** Parses text that passed the guard; malformed JSON is the client's error. */
export function parseGuardedJson(text: string): unknown {
  try {
    return JSON.parse(text, refusePoisonKeys);
  } catch (error) {
    if (error instanceof FacedbError) throw error;
    throw new FacedbError('validation_failed', `invalid JSON: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Fastify content-type parser for application/json: reads the body through a JsonShapeGuard (with the
 * route's image limits, from its config) and the body limit. Nothing past the guard's first refusal is kept
 * or looked at; the refusal is answered once the body is in (the body limit still ends it at once).
 */
export function guardedJsonParser(bodyLimit: number) {
  return (request: FastifyRequest, payload: IncomingMessage, done: (error: Error | null, body?: unknown) => void): void => {
    const declared = Number(request.headers['content-length']);
    if (Number.isFinite(declared) && declared > bodyLimit) {
      done(new FacedbError('image_too_large', `the request body is over the limit of ${bodyLimit} bytes`));
      return;
    }
    const guard = new JsonShapeGuard(request.routeOptions.config.upload ?? {});
    const chunks: Buffer[] = [];
    let received = 0;
    let finished = false;
    /** The refusal, once the guard refused: the rest of the body is read and dropped (unparsed) before answering. */
    let refusal: Error | undefined;
    const finish = (error: Error | null, body?: unknown): void => {
      if (finished) return;
      finished = true;
      payload.removeListener('data', onData);
      payload.removeListener('end', onEnd);
      payload.removeListener('error', onError);
      if (error) payload.resume();
      done(error, body);
    };
    const onData = (chunk: Buffer): void => {
      received += chunk.length;
      if (received > bodyLimit) {
        finish(new FacedbError('image_too_large', `the request body is over the limit of ${bodyLimit} bytes`));
        return;
      }
      if (refusal) return;
      try {
        guard.feed(chunk);
        chunks.push(chunk);
      } catch (error) {
        // Answering before the client has sent its body would close the connection under it (the client
        // sees a reset, not the answer); the rest, within the body limit, costs reading only.
        refusal = error as Error;
        chunks.length = 0;
      }
    };
    const onEnd = (): void => {
      if (refusal) {
        finish(refusal);
        return;
      }
      const text = Buffer.concat(chunks, received).toString('utf8');
      if (text.trim() === '') {
        finish(new FacedbError('validation_failed', 'the JSON body is empty'));
        return;
      }
      try {
        finish(null, parseGuardedJson(text));
      } catch (error) {
        finish(error as Error);
      }
    };
    const onError = (error: Error): void => finish(error);
    payload.on('data', onData);
    payload.on('end', onEnd);
    payload.on('error', onError);
  };
}

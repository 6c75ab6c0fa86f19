import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { Command, Option } from 'commander';
import type { z } from 'zod';
import { FacedbError } from '../errors/errors.js';
import * as wire from '../server/wire.js';

/** How `facedb client` commands reach a facedb server: options, requests, and errors as the local commands raise them. */

export interface RemoteFlags {
  server: string;
  apiKey?: string;
  json?: boolean;
}

/** A `facedb client` command with the options every one of them takes. */
export function remote(name: string, description: string): Command {
  return new Command(name)
    .description(description)
    .addOption(new Option('--server <url>', 'facedb server, e.g. http://127.0.0.1:8080').env('FACEDB_SERVER').makeOptionMandatory())
    .addOption(
      new Option('--api-key <key>', 'API key (read scope; admin for enroll, remove, cluster and name-cluster); better in FACEDB_API_KEY, out of the shell history').env(
        'FACEDB_API_KEY',
      ),
    )
    .option('--json', 'print JSON, as the local command does');
}

type Query = Record<string, number | string | boolean | undefined>;

/** POSTs to the API (multipart for a FormData body, else JSON); see `send`. */
export function call<T>(flags: RemoteFlags, path: string, body: FormData | object, schema: z.ZodType<T>): Promise<T> {
  const init: RequestInit =
    body instanceof FormData
      ? { method: 'POST', body }
      : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
  return send(flags, path, {}, init, schema);
}

/** GETs from the API, with the query parameters that are given; see `send`. */
export function get<T>(flags: RemoteFlags, path: string, query: Query, schema: z.ZodType<T>): Promise<T> {
  return send(flags, path, query, { method: 'GET' }, schema);
}

/** PATCHes on the API with a JSON body; see `send`. */
export function patch<T>(flags: RemoteFlags, path: string, body: object, schema: z.ZodType<T>): Promise<T> {
  return send(flags, path, {}, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }, schema);
}

/** DELETEs on the API; see `send`. */
export function remove<T>(flags: RemoteFlags, path: string, schema: z.ZodType<T>): Promise<T> {
  return send(flags, path, {}, { method: 'DELETE' }, schema);
}

/** The server's URL for `path`; a --server (or FACEDB_SERVER) that is not an http(s) URL is refused. */
export function serverUrl(flags: RemoteFlags, path: string): URL {
  let url: URL;
  try {
    url = new URL(path, flags.server);
  } catch {
    throw new FacedbError('invalid_input', `--server ${flags.server} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new FacedbError('invalid_input', `--server ${flags.server} is not an http:// or https:// URL`);
  return url;
}

/** Why a request got no answer, in the words of the system: ECONNREFUSED, ENOTFOUND, ETIMEDOUT, … */
function networkReason(error: unknown): string {
  const cause = (error as { cause?: unknown }).cause ?? error;
  const first: unknown = cause instanceof AggregateError ? (cause.errors as unknown[])[0] : cause;
  const code = (first as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  return first instanceof Error ? first.message : String(first);
}

/** Calls the API; an error envelope becomes the same FacedbError the local command would raise. */
async function send<T>(flags: RemoteFlags, path: string, query: Query, init: RequestInit, schema: z.ZodType<T>): Promise<T> {
  const { response, url } = await request(flags, path, query, init);
  const json: unknown = await response.json().catch(() => null);
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new FacedbError('internal', `unexpected answer from ${url.origin}${path}`);
  return parsed.data;
}

/**
 * Sends a request with the key; answers the response when it is a success (its body not read yet, for answers that
 * are files), else raises the error envelope as the FacedbError the local command would raise.
 */
export async function request(flags: RemoteFlags, path: string, query: Query, init: RequestInit): Promise<{ response: Response; url: URL }> {
  const url = serverUrl(flags, path);
  for (const [name, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(name, String(value));
  const headers = { ...(init.headers as Record<string, string> | undefined), ...(flags.apiKey ? { authorization: `Bearer ${flags.apiKey}` } : {}) };
  let response: Response;
  try {
    response = await fetch(url, { ...init, headers });
  } catch (error) {
    // fetch fails with "fetch failed" (the network's reason as its cause) when no answer came; anything else is a
    // request it refused to send, such as an API key that is not a valid header value.
    const message = (error as Error).message;
    if (message !== 'fetch failed') {
      const safe = flags.apiKey ? message.split(flags.apiKey).join('***') : message; // never print the key
      throw new FacedbError('invalid_input', `cannot send the request to ${url.origin}: ${safe}`);
    }
    throw new FacedbError('unreachable', `cannot reach the server at ${url.origin} (${networkReason(error)})`, { cause: error });
  }
  if (!response.ok) {
    const json: unknown = await response.json().catch(() => null);
    const envelope = wire.errorEnvelope.safeParse(json);
    if (envelope.success) throw new FacedbError(envelope.data.error.code, envelope.data.error.message);
    throw new FacedbError('internal', `${url.origin} answered ${response.status} without an error envelope`);
  }
  return { response, url };
}

/** A multipart body with the given files (by field) and fields; a file that cannot be read is not_found. */
export async function form(files: Record<string, string>, fields: Record<string, number | string | boolean | undefined> = {}): Promise<FormData> {
  const data = new FormData();
  for (const [field, path] of Object.entries(files)) {
    const bytes = await readFile(path).catch((error: unknown) => {
      throw new FacedbError('not_found', `cannot read ${path}`, { cause: error });
    });
    data.append(field, new Blob([bytes]), basename(path));
  }
  for (const [field, value] of Object.entries(fields)) if (value !== undefined) data.append(field, String(value));
  return data;
}

import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RawData, WebSocket } from 'ws';
import { FacedbError } from '../../errors/errors.js';
import type { FaceService } from '../../services/face-service.js';
import type { LiveSession } from '../../services/live-session.js';
import { WEBSOCKET_KEY_PROTOCOL } from '../auth.js';
import { routeOptions } from '../docs.js';
import { toHttpError } from '../errors.js';
import type { InferenceGate } from '../gate.js';
import type { LiveMetrics } from '../metrics.js';
import { isLiveEnd, LIVE_PROTOCOL, liveEndedToWire, liveFrameToWire, liveServerMessage, type LiveServerMessage } from '../live-wire.js';

/** Answers waiting in a connection's send buffer beyond which its pictures are dropped (a client that stopped reading). */
const MAX_BUFFERED_BYTES = 1024 * 1024;
/** How long a client told `busy` waits before its next picture. */
const BUSY_RETRY_MS = 200;

/** WebSocket close codes (RFC 6455 §7.4.1). */
const CLOSE = { normal: 1000, internal: 1011, tryAgainLater: 1013 } as const;
/** The close reason after the end message was answered. */
const ENDED_REASON = 'ended';

/** The largest picture a live connection takes: the same as one uploaded photo. */
export function maxFrameBytes(config: FaceService['config']): number {
  return Math.min(config.maxFileBytes, config.bodyLimitBytes);
}

/** What ws must know before the first connection: the message size cap and the subprotocol it answers with. */
export function liveSocketOptions(config: FaceService['config']): { maxPayload: number; handleProtocols: (offered: Set<string>) => string | false } {
  return {
    maxPayload: maxFrameBytes(config),
    // Only the live protocol is ever selected: the key a browser offers alongside is never echoed back.
    handleProtocols: (offered) => (offered.has(LIVE_PROTOCOL) ? LIVE_PROTOCOL : false),
  };
}

const tookSince = (started: number): number => Math.round((performance.now() - started) * 10) / 10;

/**
 * GET /v1/live: the web page's live view. Keys and the open-mode rules are checked on the upgrade request like on
 * any read route (auth.ts). Bounded: at most `2 × workers` connections, one picture in flight per connection
 * (pictures sent before the answer are dropped and counted), pictures capped like uploads and decoded through the
 * services' one decode path, inference only in a free slot of the inference gate (gate.tryRun: photos waiting for
 * identify come first), and a connection without a picture for FACEDB_REQUEST_TIMEOUT_MS is closed.
 */
export function liveRoutes(app: FastifyInstance, service: FaceService, gate: InferenceGate, metrics: LiveMetrics): void {
  const { config } = service;
  const maxConnections = gate.concurrency;
  const idleMs = config.requestTimeoutMs;
  let connections = 0;
  // Pictures being analysed: closing the server waits for them, so the engine is never closed under one.
  const analysing = new Set<Promise<void>>();
  app.addHook('onClose', async () => {
    await Promise.allSettled(analysing);
  });

  const serve = (socket: WebSocket, request: FastifyRequest): void => {
    const send = (message: LiveServerMessage): void => {
      if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
    };
    const fail = (error: FacedbError, close: number): void => {
      send({ type: 'error', code: error.code, message: error.message });
      socket.close(close, error.code);
    };
    if (connections >= maxConnections) {
      metrics.connectionRefused();
      fail(new FacedbError('overloaded', `the server already serves ${maxConnections} live views; retry shortly`), CLOSE.tryAgainLater);
      return;
    }
    connections += 1;
    metrics.connectionOpened();
    const counts = { frames: 0, dropped: 0, busy: 0 };
    let inFlight = false;
    let idle: NodeJS.Timeout | undefined;
    const resetIdle = (): void => {
      clearTimeout(idle);
      if (socket.readyState !== socket.OPEN) return;
      idle = setTimeout(() => fail(new FacedbError('request_timeout', `no picture for ${idleMs} ms: the live view was closed`), CLOSE.normal), idleMs);
    };
    socket.once('close', () => {
      connections -= 1;
      metrics.connectionClosed();
      clearTimeout(idle);
      request.log.info({ ...counts }, 'live connection closed');
    });

    const opened = service.liveSession();
    opened.then(
      (session) => {
        // The idle clock starts once the client can send (models loading on a first connection take their time).
        resetIdle();
        send({ type: 'ready', protocol: LIVE_PROTOCOL, threshold: session.threshold, max_frame_bytes: maxFrameBytes(config), max_pixels: config.maxPixels, idle_timeout_ms: idleMs });
      },
      (error: unknown) => {
        const failure = toHttpError(error);
        request.log.error({ code: failure.code }, `live session could not start: ${failure.message}`);
        fail(failure, CLOSE.internal);
      },
    );

    const analyse = async (session: LiveSession, bytes: Uint8Array): Promise<void> => {
      const started = performance.now();
      const job = gate.tryRun(() => session.analyse(bytes));
      if (job === undefined) {
        counts.busy += 1;
        metrics.picture('busy');
        send({ type: 'busy', retry_ms: BUSY_RETRY_MS });
        return;
      }
      const frame = counts.frames;
      counts.frames += 1;
      try {
        send(liveFrameToWire(await job, tookSince(started), counts.dropped));
        metrics.picture('answered');
      } catch (error) {
        metrics.picture('refused');
        const failure = toHttpError(error);
        if (failure.code === 'internal') request.log.error({ err: error }, 'live picture failed');
        send({ type: 'error', frame, code: failure.code, message: failure.message });
      }
    };

    /** The picture being analysed, which the end message waits for. */
    let current: Promise<void> = Promise.resolve();
    let ending = false;
    /** The camera stopped: answer the picture in flight, then the open tracks' summaries, then close. */
    const end = (): void => {
      ending = true;
      clearTimeout(idle);
      const job = current
        .then(() => opened)
        .then(async (session) => {
          send(liveEndedToWire(await session.finish()));
          socket.close(CLOSE.normal, ENDED_REASON);
        })
        .catch((error: unknown) => {
          const failure = toHttpError(error);
          if (failure.code === 'internal') request.log.error({ err: error }, 'live view could not end its tracks');
          fail(failure, CLOSE.internal);
        })
        .finally(() => analysing.delete(job));
      analysing.add(job);
    };

    socket.on('message', (data: RawData, isBinary: boolean) => {
      if (ending) return;
      resetIdle();
      if (!isBinary) {
        if (isLiveEnd(Buffer.from(pictureBytes(data)).toString('utf8'))) {
          end();
          return;
        }
        send({
          type: 'error',
          code: 'invalid_input',
          message: 'send each picture as one binary message (JPEG, PNG or WebP); the only text message is {"type": "end"} when the camera stops',
        });
        return;
      }
      // One picture at a time: one sent before the previous answer (or while answers pile up unread) is dropped.
      if (inFlight || socket.bufferedAmount > MAX_BUFFERED_BYTES) {
        counts.dropped += 1;
        metrics.picture('dropped');
        return;
      }
      inFlight = true;
      const bytes = pictureBytes(data);
      const job = opened
        .then((session) => analyse(session, bytes))
        .catch(() => undefined) // a session that failed to start has already closed the connection
        .finally(() => {
          inFlight = false;
          analysing.delete(job);
        });
      current = job;
      analysing.add(job);
    });
  };

  app.route({
    method: 'GET',
    url: '/v1/live',
    ...routeOptions({
      summary: 'Live view: faces tracked and named in pictures sent over a WebSocket (a camera)',
      tags: ['live'],
      scope: 'read',
      description:
        `A WebSocket (subprotocol ${LIVE_PROTOCOL}). Browsers, which cannot set headers on a WebSocket, offer the key as a ` +
        `second subprotocol ${WEBSOCKET_KEY_PROTOCOL}<the key as unpadded base64url>; never put it in the URL. The client sends ` +
        'each picture as one binary message and the next only after the answer; the server answers each with one JSON ' +
        'message (x-websocket.server). Faces are tracked and named per track with the same threshold and confidence as identify. ' +
        'The text message {"type": "end"} asks for the open tracks\' summaries (`ended`) before the server closes.',
      websocket: {
        subprotocol: LIVE_PROTOCOL,
        client:
          'one binary message per picture: JPEG, PNG or WebP bytes within the upload limits; the next after the answer. When the ' +
          'camera stops, the text message {"type": "end"}: the server answers `ended` with every open track\'s summary and closes (1000)',
        server: liveServerMessage,
      },
      responses: { 101: { description: 'Switching Protocols: the WebSocket is open; the first message is `ready`' } },
    }),
    handler: () => {
      throw new FacedbError('invalid_input', 'GET /v1/live is a WebSocket: connect with a WebSocket client (see docs/http.md)');
    },
    wsHandler: serve,
  });
}

/** A binary message's bytes (ws hands over one Buffer, or fragments). */
function pictureBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  return data instanceof ArrayBuffer ? new Uint8Array(data) : data;
}

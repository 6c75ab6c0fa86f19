import type { FastifyInstance } from 'fastify';
import { FacedbError } from '../errors/errors.js';
import { callerKeyId, clientNetwork, FailureLimiter, type Counted } from './auth.js';

/**
 * Ids are sequential, so a caller could walk them (`/v1/faces/1/image`, `/2`, …) to find what it was not
 * shown: faces of clusters beyond their samples, ids of people erased and re-created. A caller who knows its
 * ids rarely asks for one that does not exist, so "not found" answers on id routes are counted per key and
 * per client network (as wrong keys are, auth.ts), and past the limit that caller's id requests get 429
 * until the window ends. Answers that found something are never counted.
 */
export const NOT_FOUND_PER_WINDOW = 60;
export const NOT_FOUND_WINDOW_MS = 60_000;

function idsOf(network: string, key: string | undefined, limit: number): Counted[] {
  return [{ id: `network:${network}`, limit }, ...(key === undefined ? [] : [{ id: `key:${key}`, limit }])];
}

export function registerProbingLimit(app: FastifyInstance, limiter = new FailureLimiter(NOT_FOUND_WINDOW_MS), limit = NOT_FOUND_PER_WINDOW): void {
  const isIdRoute = (url: string | undefined): boolean => url?.includes('/:id') ?? false;
  app.addHook('onRequest', (request, reply, done) => {
    if (!isIdRoute(request.routeOptions.url)) {
      done();
      return;
    }
    const wait = limiter.blockedFor(idsOf(clientNetwork(request.ip), callerKeyId(request), limit));
    if (wait > 0) {
      reply.header('retry-after', String(wait));
      done(new FacedbError('rate_limited', `too many requests for ids that do not exist; retry in ${wait} s`));
      return;
    }
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    if (reply.statusCode === 404 && isIdRoute(request.routeOptions.url)) {
      limiter.recordFailure(idsOf(clientNetwork(request.ip), callerKeyId(request), limit));
    }
    done();
  });
}

import { z } from 'zod';
import { EMOTIONS } from '../core/types.js';
import { ERROR_CODES } from '../errors/errors.js';
import type { LiveFrame } from '../services/live-session.js';
import type { TrackIdentity } from '../services/results.js';
import type { TrackEvent } from '../services/track-session.js';

/**
 * The live view's WebSocket messages (GET /v1/live), server to client, as JSON text (snake_case like the rest of
 * the API). The client sends each picture as one binary message (JPEG, PNG or WebP) and the next one only after
 * the answer to the previous one; when its camera stops it sends the text message {"type": "end"} (LIVE_END_MESSAGE)
 * for the tracks' final summaries. The OpenAPI document shows these schemas (x-websocket), docs/http.md the protocol.
 */

/** The subprotocol the live route speaks; a browser offers it together with its key (auth.ts). */
export const LIVE_PROTOCOL = 'facedb.live.v1';

const box = z.object({ x: z.number(), y: z.number(), width: z.number(), height: z.number() });
const emotion = z.enum(EMOTIONS).nullable().describe('dominant emotion (null when emotion is not read)');
const identity = {
  person: z.string().nullable().describe('the name, or null: unknown (or not decided yet)'),
  person_id: z.number().int().nullable(),
  distance: z.number().nullable().describe('distance to the nearest enrolled person (null: empty gallery or not decided yet)'),
  confidence: z.number().min(0).max(1).nullable().describe('calibrated confidence, as identify gives it'),
};

const trackEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('track_started'), track: z.number().int(), time_ms: z.number(), box }),
  z.object({
    type: z.literal('identity'),
    track: z.number().int(),
    time_ms: z.number(),
    ...identity,
    previous: z.string().nullable().optional().describe('the name before (null: unknown; absent: first decision)'),
  }),
  z.object({
    type: z.literal('track_ended'),
    track: z.number().int(),
    time_ms: z.number(),
    duration_ms: z.number(),
    frames_seen: z.number().int(),
    best_box: box,
    crop: z.string().describe("the best sighting's face, a base64 JPEG"),
    ...identity,
    emotion: emotion.describe('dominant emotion over the whole track'),
  }),
]);

export const liveReady = z.object({
  type: z.literal('ready'),
  protocol: z.literal(LIVE_PROTOCOL),
  threshold: z.number().describe("the match threshold, identify's"),
  max_frame_bytes: z.number().int().describe('largest picture accepted, as for uploads'),
  max_pixels: z.number().int(),
  idle_timeout_ms: z.number().int().describe('the connection is closed after this long without a picture'),
});
export const liveFrame = z.object({
  type: z.literal('frame'),
  frame: z.number().int().describe('0-based number of the picture in this connection'),
  time_ms: z.number().describe('when the picture arrived, in ms since the connection opened'),
  took_ms: z.number(),
  image: z.object({ width: z.number().int(), height: z.number().int(), format: z.string() }),
  faces: z.array(
    z.object({
      track: z.number().int(),
      box: box.describe("in the picture's own pixels"),
      decided: z.boolean().describe("false until the track's identity is decided (after a few sightings)"),
      ...identity,
      emotion,
    }),
  ),
  events: z.array(trackEvent),
  dropped: z.number().int().describe('pictures dropped so far on this connection: sent before the previous answer'),
});
export const liveBusy = z.object({
  type: z.literal('busy'),
  retry_ms: z.number().int().describe('photos are waiting for the server: the picture was skipped; send the next one after this long'),
});
export const liveError = z.object({
  type: z.literal('error'),
  frame: z.number().int().optional().describe('the picture it concerns; absent when it concerns the connection (which then closes)'),
  code: z.enum(ERROR_CODES),
  message: z.string(),
});
export const liveEnded = z.object({
  type: z.literal('ended'),
  events: z.array(trackEvent).describe('a track_ended event for every track still open, each with its final identity'),
});
export const liveServerMessage = z.discriminatedUnion('type', [liveReady, liveFrame, liveBusy, liveError, liveEnded]);

/**
 * The one text message a client sends: the camera stopped. The server answers the picture in flight, then `ended`
 * with the tracks' final summaries, and closes the connection (1000).
 */
export const LIVE_END_MESSAGE = { type: 'end' } as const;
/** Whether a text message is the end message (JSON `{"type": "end"}`). */
export function isLiveEnd(text: string): boolean {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null && (parsed as { type?: unknown }).type === LIVE_END_MESSAGE.type;
  } catch {
    return false;
  }
}

export type LiveServerMessage = z.infer<typeof liveServerMessage>;
type IdentityWire = { person: string | null; person_id: number | null; distance: number | null; confidence: number | null };

function identityToWire(found: TrackIdentity | null | undefined): IdentityWire {
  return { person: found?.person ?? null, person_id: found?.personId ?? null, distance: found?.distance ?? null, confidence: found?.confidence ?? null };
}

function eventToWire(event: TrackEvent): z.infer<typeof trackEvent> {
  switch (event.type) {
    case 'track_started':
      return { type: event.type, track: event.track, time_ms: Math.round(event.timeMs), box: event.box };
    case 'identity':
      return { type: event.type, track: event.track, time_ms: Math.round(event.timeMs), ...identityToWire(event.identity), ...(event.previous === undefined ? {} : { previous: event.previous }) };
    case 'track_ended':
      return {
        type: event.type,
        track: event.track,
        time_ms: Math.round(event.timeMs),
        duration_ms: Math.round(event.durationMs),
        frames_seen: event.framesSeen,
        best_box: event.bestFrame.box,
        crop: event.bestFrame.crop,
        ...identityToWire(event.identity),
        emotion: event.emotion?.dominant ?? null,
      };
  }
}

export function liveEndedToWire(events: readonly TrackEvent[]): z.infer<typeof liveEnded> {
  return { type: 'ended', events: events.map(eventToWire) };
}

export function liveFrameToWire(answer: LiveFrame, tookMs: number, dropped: number): z.infer<typeof liveFrame> {
  return {
    type: 'frame',
    frame: answer.frame,
    time_ms: answer.timeMs,
    took_ms: tookMs,
    image: answer.image,
    faces: answer.faces.map((face) => ({
      track: face.track,
      box: { x: Math.round(face.box.x), y: Math.round(face.box.y), width: Math.round(face.box.width), height: Math.round(face.box.height) },
      decided: face.identity !== undefined,
      ...identityToWire(face.identity),
      emotion: face.emotion ?? null,
    })),
    events: answer.events.map(eventToWire),
    dropped,
  };
}

import { z } from 'zod';
import type { ImportSummary } from '../services/results.js';

/** The media type of the gallery file, both ways (GET /v1/export, POST /v1/import). */
export const GALLERY_FILE_TYPE = 'application/x-ndjson';

/** The JSON answer of POST /v1/import (snake_case), and its mapping to and from the service result. */

const added = z.object({ added: z.number().int(), skipped: z.number().int() });

export const importResponse = z.object({
  model: z.object({ id: z.string(), version: z.string() }),
  people: z.object({ added: z.number().int(), existing: z.number().int() }),
  faces: added.describe('faces of people: added, or skipped because that person already had a face from that photo'),
  unnamed_faces: added.describe('unnamed faces: added, or skipped because the gallery already held that photo unnamed'),
  clusters: z.number().int().describe('clusters made of the added unnamed faces, as the file grouped them'),
  constraints: z.number().int().describe('"not this person" constraints stored, of those on the faces and clusters this import added'),
  calibration: z.enum(['added', 'kept', 'none']).describe("the file's gallery calibration: added, kept (the gallery has its own), or none in the file"),
});

export type ImportWire = z.infer<typeof importResponse>;

export function importToWire(summary: ImportSummary): ImportWire {
  const { unnamedFaces, ...rest } = summary;
  return { ...rest, unnamed_faces: unnamedFaces };
}

export function importFromWire(wire: ImportWire): ImportSummary {
  const { unnamed_faces: unnamedFaces, ...rest } = wire;
  return { ...rest, unnamedFaces };
}

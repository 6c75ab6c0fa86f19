import { InvalidArgumentError, type Command } from 'commander';
import { loadConfig, type ConfigInput, type FacedbConfig } from '../config/config.js';
import { ATTRIBUTES_USAGE, parseAttributes } from '../core/attributes.js';
import { escapeInvisible } from '../core/names.js';
import { FACE_ATTRIBUTES } from '../core/types.js';
import { FacedbError, isFacedbError } from '../errors/errors.js';
import { openFacedb } from '../facedb.js';
import type { FaceService } from '../services/face-service.js';

/**
 * How a command uses the gallery (--db):
 * - `existing`: it reads or changes what the gallery holds (identify, people, remove, cluster, reembed's source): a
 *   gallery that does not exist is refused with not_found, and nothing is created;
 * - `create`: it adds to the gallery (enroll, worker, serve), creating it when it does not exist yet;
 * - `none`: it needs no gallery (analyze, verify, represent): an existing gallery is opened only for the engine it was
 *   enrolled with; when there is none, the configured engine (or the default) runs and no gallery is created.
 */
export type GalleryUse = 'existing' | 'create' | 'none';

/** What every command needs: the service, opened from the global options once per run. */
export interface CliContext {
  open(use: GalleryUse, overrides?: ConfigInput): Promise<FaceService>;
  /** The global options as given (not yet merged with the environment). */
  globals(): GlobalOptions;
  /** The configuration alone, for commands that do not open the gallery (enroll --queue). */
  config(overrides?: ConfigInput): FacedbConfig;
}

/** The options every command takes (main.ts). */
export interface GlobalOptions {
  db?: string;
  workers?: string;
  engine?: string;
  modelPack?: string;
}

export function createContext(program: Command): CliContext {
  const config = (overrides: ConfigInput = {}): FacedbConfig => {
    const globals = program.opts<GlobalOptions>();
    return loadConfig({ db: globals.db, workers: globals.workers, engine: globals.engine, modelPack: globals.modelPack, ...overrides });
  };
  return {
    config,
    async open(use: GalleryUse, overrides: ConfigInput = {}) {
      const settings = config(overrides);
      if (use === 'create') return openFacedb(settings);
      try {
        return await openFacedb({ ...settings, mustExist: true });
      } catch (error) {
        if (!isFacedbError(error) || error.details?.gallery !== 'missing') throw error;
        if (use === 'existing') {
          throw new FacedbError('not_found', `${error.message}; give --db <file> (or FACEDB_DB) of an existing gallery, or enroll photos into it first`, {
            cause: error,
            details: error.details,
          });
        }
      }
      // No gallery, and none wanted: a scratch gallery in memory, which this command never writes to.
      return openFacedb({ ...settings, db: ':memory:' });
    },
    globals() {
      return program.opts<GlobalOptions>();
    },
  };
}

/** Parses a whole-number option, refusing junk instead of silently using NaN. */
export function integerOption(name: string) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed)) throw new InvalidArgumentError(`${name} must be a whole number`);
    return parsed;
  };
}

export function numberOption(name: string) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!Number.isFinite(parsed)) throw new InvalidArgumentError(`${name} must be a number`);
    return parsed;
  };
}

/**
 * Writes one line to stdout. Control and invisible characters other than newline and tab are escaped as a last
 * guard (the reports escape the data they show; the same escape keeps JSON valid).
 */
export function print(line: string): void {
  process.stdout.write(`${escapeInvisible(line, '\n\t')}\n`);
}

/** `--threshold` and `--far`, the operating point of identify and verify (local and remote). */
export function withOperatingPoint(command: Command, thresholdHelp = 'match threshold (default: the model calibrated one)'): Command {
  return command
    .option('-t, --threshold <distance>', thresholdHelp, numberOption('--threshold'))
    .option('--far <rate>', 'target false-accept rate (e.g. 0.001) instead of a threshold', numberOption('--far'));
}

/** `--attributes <list>`: the face attributes to compute (flags.attributes); bad words are a usage error. */
export function withAttributeOption(command: Command, byDefault = FACE_ATTRIBUTES.join(',')): Command {
  return command.option('--attributes <list>', `attributes to compute: ${ATTRIBUTES_USAGE} (default: ${byDefault})`, (value: string) => {
    try {
      return parseAttributes(value);
    } catch (error) {
      throw new InvalidArgumentError(`--attributes: ${error instanceof Error ? error.message : String(error)}`);
    }
  });
}

/** `--no-detect`: the photos already are face crops; no detector, the whole image is one face (flags.detect false). */
export function withoutDetection(command: Command): Command {
  return command.option('--no-detect', 'the photos already are face crops: skip detection, take each whole image as one face');
}

/** `--max-faces` and, unless `only` says otherwise, `--min-face-size`: which faces of a photo count. */
export function withFaceLimits(command: Command, only: 'max-faces' | 'both' = 'both'): Command {
  command.option('--max-faces <n>', 'at most this many faces per photo', integerOption('--max-faces'));
  if (only === 'max-faces') return command;
  return command.option('--min-face-size <px>', 'ignore faces narrower than this', integerOption('--min-face-size'));
}

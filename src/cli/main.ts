#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { escapeInvisible } from '../core/names.js';
import { toFacedbError } from '../errors/errors.js';
import { exitCodeFor } from '../errors/exit-codes.js';
import { analyzeCommand } from './commands/analyze.js';
import { clientCommand } from './commands/client.js';
import { clusterCommand, nameClusterCommand } from './commands/cluster.js';
import { localCurationCommands } from './commands/curation.js';
import { enrollCommand } from './commands/enroll.js';
import { identifyCommand } from './commands/identify.js';
import { peopleCommand } from './commands/people.js';
import { removeCommand } from './commands/remove.js';
import { searchCommand } from './commands/search.js';
import { exportCommand, importCommand } from './commands/transfer.js';
import { representCommand } from './commands/represent.js';
import { serveCommand } from './commands/serve.js';
import { verifyCommand } from './commands/verify.js';
import { DEFAULT_ENGINE, ENGINE_NAMES } from '../engine/registry.js';
import { workerCommand } from './commands/worker.js';
import { createContext } from './context.js';
import { reembedCommand } from './commands/reembed.js';
import { evaluateCommand } from './commands/evaluate.js';

/** The installed package's version: package.json is two folders up from dist/cli/ (and from src/cli/). */
const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
import { watchCommand } from './commands/watch.js';

const program = new Command('facedb')
  .description('face recognition: enroll a gallery, identify every face in a photo, verify, analyse emotion')
  .version(version, '-V, --version', 'print the version of facedb')
  .option('--db <file|url>', 'gallery: a SQLite file or a postgres:// URL; env FACEDB_DB; default ./facedb.sqlite')
  .option('--workers <n>', 'inference worker threads; env FACEDB_WORKERS; default one per core')
  .option(
    '--engine <name>',
    `face engine for a new gallery (${ENGINE_NAMES.join(', ')}); env FACEDB_ENGINE; default ${DEFAULT_ENGINE}; an existing gallery always uses its own`,
  )
  .option('--model-pack <dir>', 'embed with the model pack in this folder (an ArcFace-style .onnx and facedb-pack.json); env FACEDB_MODEL_PACK')
  .showHelpAfterError()
  .exitOverride();

const ctx = createContext(program);
for (const command of [
  enrollCommand(ctx),
  identifyCommand(ctx),
  searchCommand(ctx),
  verifyCommand(ctx),
  analyzeCommand(ctx),
  representCommand(ctx),
  peopleCommand(ctx),
  removeCommand(ctx),
  reembedCommand(ctx),
  exportCommand(ctx),
  importCommand(ctx),
  evaluateCommand(ctx),
  clusterCommand(ctx),
  nameClusterCommand(ctx),
  ...localCurationCommands(ctx),
  watchCommand(ctx),
  serveCommand(ctx),
  workerCommand(ctx),
  clientCommand(),
]) {
  program.addCommand(command.exitOverride());
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Help and version are not failures; usage errors were already printed by commander.
    process.exitCode = error.exitCode === 0 ? 0 : exitCodeFor('invalid_input');
  } else {
    const failure = toFacedbError(error);
    process.stderr.write(`facedb: error [${failure.code}]: ${escapeInvisible(failure.message)}\n`);
    process.exitCode = exitCodeFor(failure.code);
  }
}

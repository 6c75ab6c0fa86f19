import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import { parseApiKeys } from '../../config/config.js';
import { FacedbError } from '../../errors/errors.js';
import { print, type CliContext } from '../context.js';

interface ServeFlags {
  host?: string;
  port?: string;
  apiKeyFile?: string;
}

async function readKeyFile(path: string) {
  const text = await readFile(path, 'utf8').catch((error: unknown) => {
    throw new FacedbError('invalid_input', `cannot read the API key file ${path}`, { cause: error });
  });
  try {
    return parseApiKeys(text, path);
  } catch (error) {
    throw new FacedbError('invalid_input', (error as Error).message);
  }
}

export function serveCommand(ctx: CliContext): Command {
  return new Command('serve')
    .description('run the HTTP API, its OpenAPI docs (/docs) and the web page')
    .option('--host <host>', 'interface to listen on; env FACEDB_HOST; default 127.0.0.1 (others need API keys)')
    .option('--port <port>', 'port; env FACEDB_PORT; default 8080; 0 picks a free one')
    .option('--api-key-file <file>', 'API keys, one scope:key per line (# comments); env FACEDB_API_KEY_FILE, also FACEDB_API_KEYS')
    .action(async (flags: ServeFlags) => {
      const service = await ctx.open('create', { host: flags.host, port: flags.port, apiKeyFile: flags.apiKeyFile });
      const { config } = service;
      try {
        const fileKeys = config.apiKeyFile === undefined ? [] : await readKeyFile(config.apiKeyFile);
        // Loaded only here: Fastify and its plugins cost every other command's start-up time.
        const { buildServer } = await import('../../server/app.js');
        const app = await buildServer(
          service,
          { ...config, apiKeys: [...config.apiKeys, ...fileKeys] },
          { logger: { level: 'info', stream: process.stderr } },
        );
        // Load the models before taking traffic, so the first requests are not the slow ones.
        await service.engine();
        const address = await app.listen({ host: config.host, port: config.port });
        // The one stdout line: scripts and tests read the bound address (port 0) from it.
        print(`facedb listening on ${address}`);

        const signal = await new Promise<NodeJS.Signals>((resolve) => {
          process.once('SIGTERM', resolve);
          process.once('SIGINT', resolve);
        });
        app.log.info({ signal }, 'shutting down: finishing requests in flight');
        const timeout = setTimeout(() => {
          app.log.error('requests still in flight after the shutdown timeout; exiting');
          process.exit(1);
        }, config.shutdownTimeoutMs);
        timeout.unref();
        await app.close();
        clearTimeout(timeout);
      } finally {
        await service.close();
      }
    });
}

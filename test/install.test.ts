import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CLI, REPO_ROOT, tempDir, testImage } from './fixtures.js';

/**
 * `facedb` as a user gets it: `npm pack`, then `npm install -g` of the tarball into a temporary prefix (from the npm
 * registry, as anyone would), then the `facedb` that landed on the PATH runs. better-sqlite3's binary comes from a
 * local prebuild of the same version made from this checkout's build (prebuild-install's `local_prebuilds`), so the
 * test does not spend minutes compiling SQLite again; everything else installs as it does for a user.
 */

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: { ...process.env, ...options.env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

void describe('npm pack + npm install -g: a working facedb on the PATH', { timeout: 30 * 60_000 }, () => {
  let work: string;
  let tarball: string;
  let prefix: string;
  let path: string;
  let version: string;

  before(async () => {
    assert.ok(existsSync(CLI), `${CLI} is missing: build first (npm run build)`);
    work = await tempDir('facedb-install-');
    prefix = join(work, 'prefix');
    path = `${join(prefix, 'bin')}:${process.env.PATH ?? ''}`;
    version = (JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  });
  after(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  void it('packs the built CLI, its examples and README, and no sources or tests', async () => {
    const packed = await run('npm', ['pack', '--pack-destination', work, '--json', '--loglevel=error'], { cwd: REPO_ROOT });
    assert.equal(packed.code, 0, packed.stderr);
    const [pack] = JSON.parse(packed.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    assert.ok(pack, packed.stdout);
    tarball = join(work, pack.filename);
    const paths = pack.files.map((file) => file.path);
    assert.ok(paths.includes('dist/cli/main.js'), 'the bin');
    assert.ok(paths.includes('README.md') && paths.some((p) => p.startsWith('examples/gallery/')));
    assert.ok(paths.some((p) => p.startsWith('node_modules/faceplugin-face-recognition-js/model/')), 'the bundled models');
    const ours = paths.filter((p) => !p.startsWith('node_modules/'));
    assert.deepEqual(ours.filter((p) => p.startsWith('src/') || p.startsWith('test/') || /\.test\.[jt]s$/.test(p)), []);
    assert.deepEqual(ours.filter((p) => p.startsWith('dist/engine/fake/')), [], 'no test-only engine in the package');
    assert.match(await readFile(CLI, 'utf8'), /^#!\/usr\/bin\/env node\n/, 'the bin starts with a shebang');
  });

  void it('installs with npm install -g into a prefix, with `facedb` on the PATH', async () => {
    const sqlite = join(REPO_ROOT, 'node_modules/better-sqlite3');
    const { version: sqliteVersion } = JSON.parse(await readFile(join(sqlite, 'package.json'), 'utf8')) as { version: string };
    const prebuilds = join(work, 'prebuilds');
    await mkdir(prebuilds);
    const name = `better-sqlite3-v${sqliteVersion}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
    const tar = await run('tar', ['czf', join(prebuilds, name), '-C', sqlite, 'build/Release/better_sqlite3.node']);
    assert.equal(tar.code, 0, tar.stderr);

    const install = await run('npm', ['install', '-g', '--prefix', prefix, tarball, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], {
      cwd: work,
      env: { ONNXRUNTIME_NODE_INSTALL: 'skip', npm_config_better_sqlite3_local_prebuilds: prebuilds },
    });
    assert.equal(install.code, 0, install.stderr);
    assert.ok(existsSync(join(prefix, 'bin', 'facedb')));
    const bundled = await readdir(join(prefix, 'lib/node_modules/facedb/node_modules'));
    assert.ok(!bundled.includes('webpack') && !bundled.includes('typescript'), 'no build tools or dev dependencies installed');

    const shown = await run('facedb', ['--version'], { cwd: work, env: { PATH: path } });
    assert.equal(shown.code, 0, shown.stderr);
    assert.equal(shown.stdout, `${version}\n`);
  });

  void it('runs a real command: facedb analyze on a photo, leaving no gallery behind', async () => {
    const cwd = join(work, 'elsewhere');
    await mkdir(cwd);
    // As a user runs it: without the test runner's FACEDB_TEST_ENGINES (the package has no test engines).
    const analyzed = await run('facedb', ['analyze', testImage('Bono_0002.jpg'), '--json'], { cwd, env: { PATH: path, FACEDB_WORKERS: '1', FACEDB_TEST_ENGINES: '' } });
    assert.equal(analyzed.code, 0, analyzed.stderr);
    const result = JSON.parse(analyzed.stdout) as { faces: Array<{ emotion: { dominant: string }; age: number }> };
    assert.equal(result.faces.length, 1);
    assert.equal(typeof result.faces[0]?.emotion.dominant, 'string');
    assert.deepEqual(await readdir(cwd), []);
  });
});

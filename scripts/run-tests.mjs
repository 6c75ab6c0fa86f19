// Node 20's test runner neither globs nor finds .ts files by itself: list them here, then hand over.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';

function findTests(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return findTests(path);
    return entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

const filters = process.argv.slice(2);
const files = findTests('src')
  .concat(findTests('test'))
  .filter((file) => filters.length === 0 || filters.some((f) => file.includes(f)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
// Test files run side by side, one per core up to 4: a file often leaves a core idle while it waits on the processes,
// servers and databases it starts, and every file keeps to its own temporary folders and ephemeral ports.
// FACEDB_TEST_CONCURRENCY=1 runs them one after another (to read one file's timing, or on a small machine).
const concurrency = Number(process.env.FACEDB_TEST_CONCURRENCY) || Math.min(4, availableParallelism());
// The test-only engines (`fake`) are choosable only with this switch; every process the tests start inherits it.
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, ...files], {
  stdio: 'inherit',
  env: { ...process.env, FACEDB_TEST_ENGINES: '1' },
});
process.exit(result.status ?? 1);

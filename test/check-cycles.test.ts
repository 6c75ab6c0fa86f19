import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT, tempDir } from './fixtures.js';

const SCRIPT = join(REPO_ROOT, 'scripts/check-cycles.mjs');

function check(root: string): { status: number | null; out: string } {
  const run = spawnSync(process.execPath, [SCRIPT, root], { cwd: root, encoding: 'utf8' });
  return { status: run.status, out: run.stdout + run.stderr };
}

/** A little source tree: `files` maps a path under the root to its text. */
async function tree(files: Record<string, string>): Promise<string> {
  const root = await tempDir('facedb-cycles-');
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(root, path, '..'), { recursive: true });
    await writeFile(join(root, path), text);
  }
  return root;
}

describe('scripts/check-cycles.mjs', () => {
  it('passes a tree without cycles', async () => {
    const root = await tree({
      'a.ts': "import { b } from './b.js';\nexport const a = b;\n",
      'b.ts': "import type { C } from './sub/c.js';\nexport const b: C = 1;\n",
      'sub/c.ts': 'export type C = number;\n// import { a } from "../a.js";\n',
    });
    const result = check(root);
    assert.equal(result.status, 0, result.out);
    assert.match(result.out, /3 modules, 2 imports .* no cycles/);
  });

  it('fails on a cycle made only of type imports and re-exports, naming its files', async () => {
    const root = await tree({
      'a.ts': "import { b } from './b.js';\nexport const a = b;\n",
      'b.ts': "export { c as b } from './sub/c.js';\n",
      'sub/c.ts': "import type {\n  A,\n} from '../types.js';\nexport const c = 1 as A;\n",
      'types.ts': "import type { a } from './a.js';\nexport type A = typeof a extends number ? number : never;\n",
    });
    const result = check(root);
    assert.equal(result.status, 1, result.out);
    assert.match(result.out, /import cycle: a\.ts → b\.ts → sub\/c\.ts → types\.ts → a\.ts/);
    assert.match(result.out, /1 import cycle in/);
  });

  it('finds no cycle in src', () => {
    const result = spawnSync(process.execPath, [SCRIPT, 'src'], { cwd: REPO_ROOT, encoding: 'utf8' });
    assert.equal(result.status, 0, result.stdout + result.stderr);
  });
});

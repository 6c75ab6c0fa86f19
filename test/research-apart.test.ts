import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from './fixtures.js';

/** Every .ts file under `dir` (relative to the repository root). */
function sources(dir: string): string[] {
  return readdirSync(join(REPO_ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => relative(REPO_ROOT, join(entry.parentPath, entry.name)));
}

/** The files among `files` with an import or export (static or dynamic) whose specifier reaches into `folder/`. */
function importing(files: readonly string[], folder: string): string[] {
  const reaches = new RegExp(`(?:from\\s+|import\\s*\\(\\s*)['"](?:\\.\\.?/)+${folder}/`);
  return files.filter((file) => reaches.test(readFileSync(join(REPO_ROOT, file), 'utf8')));
}

describe('research and benchmarks stay apart from the product', () => {
  it('src/ imports nothing from bench/ or research/', () => {
    const product = sources('src');
    assert.ok(product.length > 50, `found only ${product.length} source files`);
    assert.deepEqual(importing(product, 'bench'), []);
    assert.deepEqual(importing(product, 'research'), []);
  });

  it('bench/ imports nothing from research/', () => {
    assert.deepEqual(importing(sources('bench'), 'research'), []);
  });

  it('finds such an import when there is one', () => {
    // The pattern itself: research/ does import bench/ helpers, so the check must see it.
    assert.ok(importing(sources('research'), 'bench').length > 0);
  });
});

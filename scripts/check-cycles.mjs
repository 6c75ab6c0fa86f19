// Fails when the import graph of src/ has a cycle. Every import and re-export counts, `import type` included: a
// type-only cycle still ties two modules' meanings together. Relative specifiers are resolved the way TypeScript's
// NodeNext resolution maps them (`./x.js` → `./x.ts`, `./dir/index.js` → `./dir/index.ts`).
// Usage: node scripts/check-cycles.mjs [root]   (root: src)
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(process.argv[2] ?? 'src');

function sourceFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

// `import … from '…'`, `import type … from '…'`, `export … from '…'`, side-effect `import '…'`, and `import('…')`.
const SPECIFIER = /(?:^|[\s;])(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/gm;

/** Drops comments so commented-out imports do not count (strings are left alone: specifiers live in them). */
function withoutComments(text) {
  return text.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

function resolveSpecifier(from, specifier) {
  if (!specifier.startsWith('.')) return undefined;
  const base = resolve(dirname(from), specifier);
  const candidates = [base.replace(/\.js$/, '.ts'), base.replace(/\.mjs$/, '.mts'), `${base}.ts`, join(base, 'index.ts')];
  return candidates.find((path) => existsSync(path) && statSync(path).isFile());
}

export function importGraph(dir) {
  const graph = new Map();
  for (const file of sourceFiles(dir)) {
    const targets = new Set();
    for (const match of withoutComments(readFileSync(file, 'utf8')).matchAll(SPECIFIER)) {
      const target = resolveSpecifier(file, match[1] ?? match[2]);
      if (target !== undefined) targets.add(target);
    }
    graph.set(file, [...targets].sort());
  }
  return graph;
}

/** Every cycle, each reported once (Tarjan's strongly connected components, then one cycle through each). */
export function findCycles(graph) {
  let counter = 0;
  const index = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const components = [];
  const visit = (node) => {
    index.set(node, counter);
    low.set(node, counter);
    counter += 1;
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node), low.get(next)));
      } else if (onStack.has(next)) low.set(node, Math.min(low.get(node), index.get(next)));
    }
    if (low.get(node) === index.get(node)) {
      const component = [];
      let member;
      do {
        member = stack.pop();
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      const selfLoop = (graph.get(node) ?? []).includes(node);
      if (component.length > 1 || selfLoop) components.push(new Set(component));
    }
  };
  for (const node of [...graph.keys()].sort()) if (!index.has(node)) visit(node);
  // One concrete cycle per component: a shortest path back to its first file, through the component only.
  return components.map((members) => {
    const start = [...members].sort()[0];
    const previous = new Map([[start, null]]);
    const queue = [start];
    while (queue.length > 0) {
      const node = queue.shift();
      for (const next of graph.get(node) ?? []) {
        if (next === start) {
          const path = [start];
          for (let at = node; at !== start; at = previous.get(at)) path.splice(1, 0, at);
          return [...path, start];
        }
        if (members.has(next) && !previous.has(next)) {
          previous.set(next, node);
          queue.push(next);
        }
      }
    }
    return [start, start];
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const graph = importGraph(root);
  const cycles = findCycles(graph);
  const edges = [...graph.values()].reduce((sum, targets) => sum + targets.length, 0);
  if (cycles.length === 0) {
    console.log(`check-cycles: ${graph.size} modules, ${edges} imports under ${relative(process.cwd(), root) || '.'}, no cycles`);
  } else {
    for (const cycle of cycles) console.error(`import cycle: ${cycle.map((file) => relative(process.cwd(), file)).join(' → ')}`);
    console.error(`check-cycles: ${cycles.length} import cycle${cycles.length === 1 ? '' : 's'} in ${relative(process.cwd(), root) || '.'}`);
    process.exit(1);
  }
}

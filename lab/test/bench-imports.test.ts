// Benches import no test file, directly or through what they import: helpers both need live in a place both
// may import (e.g. services/collector/testkit/), so a bench never depends on the test suite's layout.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../src/core/paths.ts';

const root = repoRoot();

function tsFiles(dir: string, out: string[] = []): string[] {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) tsFiles(p, out);
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** Relative imports of a file (static and dynamic), resolved to paths. */
function relativeImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:from\s+|import\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => m[1]!);
  return specs.map((s) => resolve(dirname(file), s));
}

/** Every file a bench reaches through relative imports, with the chain that reached it. */
export function reachable(entry: string): Map<string, string[]> {
  const seen = new Map<string, string[]>([[entry, [entry]]]);
  const queue = [entry];
  while (queue.length > 0) {
    const f = queue.shift()!;
    if (!existsSync(f) || !f.endsWith('.ts')) continue;
    for (const dep of relativeImports(f))
      if (!seen.has(dep)) {
        seen.set(dep, [...seen.get(f)!, dep]);
        queue.push(dep);
      }
  }
  return seen;
}

const benches = [
  ...readdirSync(join(root, 'services')).flatMap((s) => tsFiles(join(root, 'services', s, 'bench'))),
  ...tsFiles(join(root, 'lab', 'bench')),
  ...tsFiles(join(root, 'bench')),
];

describe('benches import nothing from test/', () => {
  it('finds the benches', () => assert.ok(benches.length >= 5, `${benches.length} bench files`));
  for (const b of benches)
    it(relative(root, b), () => {
      const intoTest = [...reachable(b)].filter(([f]) => f.split(sep).includes('test'));
      assert.deepEqual(
        intoTest.map(([, chain]) => chain.map((f) => relative(root, f)).join(' → ')),
        [],
        'a bench reaches into test/',
      );
    });
});

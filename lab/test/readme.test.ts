// The README as a new user meets it: at most 200 lines, the quick start first and run "as root (or with
// sudo)", the repository layout it describes present, and every relative link in it and in docs/ resolving.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../src/core/paths.ts';

const root = repoRoot();
const readme = readFileSync(join(root, 'README.md'), 'utf8');

/** Relative link targets of a Markdown file (anchors and URLs left out), resolved against its folder. */
function links(file: string): { target: string; path: string }[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1]!)
    .filter((t) => !/^[a-z]+:/.test(t) && !t.startsWith('#'))
    .map((t) => ({ target: t, path: join(dirname(file), t.split('#')[0]!) }));
}

describe('README.md', () => {
  it('is at most 200 lines', () => {
    const n = readme.split('\n').length - (readme.endsWith('\n') ? 1 : 0);
    assert.ok(n <= 200, `${n} lines`);
  });
  it('starts with the quick start, run as root (or with sudo)', () => {
    const sections = [...readme.matchAll(/^## (.+)$/gm)].map((m) => m[1]);
    assert.equal(sections[0], 'Quick start');
    const quick = readme.slice(readme.indexOf('## Quick start'), readme.indexOf(`## ${sections[1]}`));
    assert.match(quick, /as root \(or with sudo/i);
    assert.match(quick, /^bash scripts\/setup\.sh/m);
  });
  it('names only paths that exist in its repository layout', () => {
    const layout = readme.slice(readme.indexOf('## Repository and development'));
    const named = [...layout.matchAll(/`((?:[\w.-]+\/)+[\w.-]*)`/g)].map((m) => m[1]!);
    assert.ok(named.length >= 10, named.join(' '));
    for (const p of named) {
      // `src/`, `test/`, `bench/`: what each service has
      const at = /^[\w-]+\/$/.test(p) && !existsSync(join(root, p)) ? join('services/collector', p) : p;
      assert.ok(existsSync(join(root, at)), `${p} is named but does not exist`);
    }
  });
  const files = [
    join(root, 'README.md'),
    join(root, 'lab/README.md'),
    ...readdirSync(join(root, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .map((f) => join(root, 'docs', f)),
  ];
  for (const f of files)
    it(`${f.slice(root.length + 1)}: every relative link resolves`, () => {
      const broken = links(f).filter((l) => !existsSync(l.path));
      assert.deepEqual(
        broken.map((l) => l.target),
        [],
      );
    });
});

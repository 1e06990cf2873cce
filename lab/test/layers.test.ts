import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from './cli-helpers.ts';
import { layerViolations, readSources, type SourceFile, sizeViolations } from './layers.ts';

const SRC = join(ROOT, 'lab', 'src');

describe('lab layering (lab/README.md "Layers")', () => {
  it('no lab source file imports a folder on its own layer or above, and only runtime/ names a concrete runtime', () => {
    const files = readSources(SRC);
    assert.ok(files.length > 50, `read ${files.length} files`);
    assert.ok(
      files.some((f) => f.imports.length > 0),
      'the reader found imports',
    );
    assert.deepEqual(layerViolations(files), []);
  });

  it('no lab source file over 400 lines, no function over 80 lines', () => {
    assert.deepEqual(sizeViolations(SRC), []);
  });

  // The checker itself: these are the breaches the rules exist to stop.
  const cases: { name: string; files: SourceFile[]; expect: RegExp | null }[] = [
    {
      name: 'an upward import (probe → burst)',
      files: [{ path: 'probe/loop.ts', imports: ['burst/run.ts'] }],
      expect: /probe \(layer 2\) may not import burst \(layer 5\)/,
    },
    {
      name: 'a sideways import on one layer (analysis → runtime)',
      files: [{ path: 'analysis/x.ts', imports: ['runtime/types.ts'] }],
      expect: /analysis \(layer 1\) may not import runtime \(layer 1\)/,
    },
    {
      name: 'the bottom layer reaching up (core → probe)',
      files: [{ path: 'core/record.ts', imports: ['probe/exposition.ts'] }],
      expect: /core \(layer 0\) may not import probe/,
    },
    {
      name: 'a command naming a concrete runtime',
      files: [{ path: 'burst/run.ts', imports: ['runtime/process/runtime.ts'] }],
      expect: /only runtime\/process\/ itself and runtime\/select.ts name a concrete runtime/,
    },
    {
      name: 'one runtime naming the other',
      files: [{ path: 'runtime/docker/runtime.ts', imports: ['runtime/process/runtime.ts'] }],
      expect: /only runtime\/process\/ itself/,
    },
    {
      name: 'a new top-level folder nobody placed',
      files: [{ path: 'forecast/run.ts', imports: ['core/record.ts'] }],
      expect: /"forecast" is not in the layer table/,
    },
    {
      name: 'a downward import and the selector naming runtimes (allowed)',
      files: [
        { path: 'burst/run.ts', imports: ['probe/loop.ts', 'core/record.ts', 'burst/profile.ts'] },
        { path: 'runtime/select.ts', imports: ['runtime/process/runtime.ts', 'runtime/docker/runtime.ts'] },
        { path: 'main.ts', imports: ['cli/commands.ts'] },
      ],
      expect: null,
    },
  ];
  for (const c of cases)
    it(`checker: ${c.name}`, () => {
      const v = layerViolations(c.files);
      if (c.expect === null) assert.deepEqual(v, []);
      else {
        assert.equal(v.length, 1, v.join('\n'));
        assert.match(v[0]!, c.expect);
      }
    });
});

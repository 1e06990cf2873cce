import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from './cli-helpers.ts';
import {
  layerViolations,
  readSources,
  SERVICE_SIZE_EXEMPTIONS,
  type SizeExemptions,
  type SourceFile,
  sizeViolations,
} from './layers.ts';

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

  it('the services keep the same limits (services/*/src), exempting only named functions with a reason', () => {
    const services = readdirSync(join(ROOT, 'services')).filter((d) =>
      existsSync(join(ROOT, 'services', d, 'src')),
    );
    assert.deepEqual(services.sort(), Object.keys(SERVICE_SIZE_EXEMPTIONS).sort(), 'one entry per service');
    for (const s of services) {
      const exempt = SERVICE_SIZE_EXEMPTIONS[s]!;
      for (const [name, why] of [...Object.entries(exempt.functions), ...Object.entries(exempt.files)])
        assert.ok(why.trim().length > 10 && !why.includes('\n'), `${s} ${name}: a one-line reason`);
      assert.deepEqual(
        sizeViolations(join(ROOT, 'services', s, 'src'), exempt).map((v) => `${s}/${v}`),
        [],
      );
    }
  });

  const sizeCases: { name: string; source: string; exempt: SizeExemptions; expect: RegExp[] }[] = [
    {
      name: 'a long function is named',
      source: `export function big() {\n${'  x();\n'.repeat(90)}}\n`,
      exempt: { functions: {}, files: {} },
      expect: [/x\.ts:1: big of 92 lines/],
    },
    {
      name: 'an inner function by its qualified name',
      source: `function outer() {\n  const inner = () => {\n${'    x();\n'.repeat(85)}  };\n}\n`,
      exempt: { functions: { outer: 'outer is long because inner is' }, files: {} },
      expect: [/x\.ts:2: outer\.inner of 87 lines/],
    },
    {
      name: 'an exempted function passes',
      source: `export function big() {\n${'  x();\n'.repeat(90)}}\n`,
      exempt: { functions: { big: 'hot path, on purpose' }, files: {} },
      expect: [],
    },
    {
      name: 'a stale exemption is reported',
      source: 'export function small() {}\n',
      exempt: { functions: { small: 'no longer long' }, files: { 'x.ts': 'no longer long' } },
      expect: [/exemption "small" matches nothing/, /exemption "x.ts" matches nothing/],
    },
    {
      name: 'a long file',
      source: '// line\n'.repeat(401),
      exempt: { functions: {}, files: {} },
      expect: [/x\.ts: 402 lines \(max 400\)/],
    },
  ];
  for (const c of sizeCases)
    it(`size checker: ${c.name}`, () => {
      const dir = mkdtempSync(join(tmpdir(), 'pp-size-'));
      try {
        writeFileSync(join(dir, 'x.ts'), c.source);
        const v = sizeViolations(dir, c.exempt);
        assert.equal(v.length, c.expect.length, v.join('\n'));
        for (const [i, re] of c.expect.entries()) assert.match(v[i]!, re);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

  it('every command lives under commands/<verb>/; libraries hold no command entry file', () => {
    const entries = readSources(SRC)
      .map((f) => f.path)
      .filter((p) => p.endsWith('/cli.ts') && p !== 'core/cli.ts');
    assert.ok(entries.length >= 9, `found ${entries.length} command entry files`);
    assert.deepEqual(
      entries.filter((p) => !/^commands\/[a-z-]+\/cli\.ts$/.test(p)),
      [],
    );
  });

  // The checker itself: these are the breaches the rules exist to stop.
  const cases: { name: string; files: SourceFile[]; expect: RegExp | null }[] = [
    {
      name: 'an upward import (probe → burst)',
      files: [{ path: 'probe/loop.ts', imports: ['burst/run.ts'] }],
      expect: /probe \(layer 2\) may not import burst \(layer 4\)/,
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
        { path: 'main.ts', imports: ['commands/index.ts'] },
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

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isLabError } from '@pushpull/common';
import { type RuntimeCandidate, selectRuntime } from '../src/runtime/select.ts';
import type { RuntimeFactory, RuntimeKind } from '../src/runtime/types.ts';
import { onPath, skipUnless } from './requirements.ts';

// The last test asks the real process factory, which needs Debian's Prometheus binaries: without them it
// skips loudly (under CI it runs and fails).
const binaries = skipUnless(
  'select.test.ts',
  onPath('prometheus', 'prometheus-pushgateway'),
  'prometheus / prometheus-pushgateway',
  'as root: bash scripts/setup.sh, or apt-get install prometheus prometheus-pushgateway',
);

function fake(kind: RuntimeKind, ok: boolean, reason: string): RuntimeCandidate {
  const factory = {
    kind,
    available: async () => ({ ok, reason }),
    create: () => {
      throw new Error('not in this test');
    },
    attach: async () => {
      throw new Error('not in this test');
    },
    reap: async () => [],
  } as RuntimeFactory;
  return { kind, load: async () => factory };
}
const broken = (kind: RuntimeKind): RuntimeCandidate => ({
  kind,
  load: async () => {
    throw new Error('module missing');
  },
});

describe('runtime selection (strategy chain)', () => {
  it('auto: docker when the engine answers and images are present', async () => {
    const s = await selectRuntime('auto', [
      fake('docker', true, 'engine ok'),
      fake('process', true, 'bins ok'),
    ]);
    assert.equal(s.factory.kind, 'docker');
  });
  it('auto: falls back to process, recording why docker was skipped', async () => {
    const s = await selectRuntime('auto', [
      fake('docker', false, 'images missing: x'),
      fake('process', true, 'bins ok'),
    ]);
    assert.equal(s.factory.kind, 'process');
    assert.match(s.reasons[0]!, /docker: skipped — images missing/);
  });
  it('auto: a docker module that fails to load is skipped too', async () => {
    const s = await selectRuntime('auto', [broken('docker'), fake('process', true, 'ok')]);
    assert.equal(s.factory.kind, 'process');
  });
  it('auto: nothing usable → LAB_ERR_NO_RUNTIME saying what to install', async () => {
    await assert.rejects(
      selectRuntime('auto', [
        fake('docker', false, 'no engine'),
        fake('process', false, 'prometheus not on PATH'),
      ]),
      (e) =>
        isLabError(e, 'LAB_ERR_NO_RUNTIME') &&
        /sudo bash scripts\/setup\.sh/.test(e.message) &&
        /prometheus-pushgateway/.test(e.message) &&
        /no engine/.test(e.message),
    );
  });
  it('explicit docker: the docker error, not a fallback', async () => {
    await assert.rejects(
      selectRuntime('docker', [fake('docker', false, 'no engine answers'), fake('process', true, 'ok')]),
      (e) => isLabError(e, 'LAB_ERR_DOCKER_UNREACHABLE'),
    );
    await assert.rejects(
      selectRuntime('docker', [fake('docker', false, 'images missing'), fake('process', true, 'ok')]),
      (e) => isLabError(e, 'LAB_ERR_IMAGE_MISSING'),
    );
  });
  it('explicit process with missing binaries → LAB_ERR_MISSING_BINARY', async () => {
    await assert.rejects(
      selectRuntime('process', [
        fake('docker', true, 'ok'),
        fake('process', false, 'prometheus not on PATH'),
      ]),
      (e) => isLabError(e, 'LAB_ERR_MISSING_BINARY'),
    );
  });
  it('the real process factory reports the Debian binaries here', { skip: binaries }, async () => {
    const { processRuntimeFactory } = await import('../src/runtime/process/runtime.ts');
    const { repoRoot } = await import('../src/core/paths.ts');
    const a = await processRuntimeFactory(repoRoot()).available();
    assert.equal(a.ok, true, a.reason);
  });
});

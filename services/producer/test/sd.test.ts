import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createProducer, defaultAdvertise, sdEntries } from '../src/index.ts';
import { type SdEntry, writeSdFile } from '../src/sd.ts';
import { request } from './helpers.ts';

describe('--sd-dir self-registration (Prometheus file_sd)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pp-sd-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes DIR/<name>.json with one target per pod at start and removes it on stop', async () => {
    const p = createProducer({
      pods: 3,
      name: 'prod-7',
      http: '127.0.0.1:0',
      pushMode: 'off',
      sdDir: dir,
      processMetrics: false,
    });
    const { http } = await p.start();
    try {
      const file = join(dir, 'prod-7.json');
      assert.equal(p.sdFile, file);
      const entries: SdEntry[] = JSON.parse(readFileSync(file, 'utf8'));
      assert.deepEqual(entries, [
        {
          targets: [http],
          labels: { __metrics_path__: '/pods/prod-7-p0/metrics', pod: 'prod-7-p0', container: 'prod-7' },
        },
        {
          targets: [http],
          labels: { __metrics_path__: '/pods/prod-7-p1/metrics', pod: 'prod-7-p1', container: 'prod-7' },
        },
        {
          targets: [http],
          labels: { __metrics_path__: '/pods/prod-7-p2/metrics', pod: 'prod-7-p2', container: 'prod-7' },
        },
      ]);
      // every advertised target answers on its metrics path
      for (const e of entries) {
        const r = await request(e.targets[0]!, 'GET', e.labels.__metrics_path__);
        assert.equal(r.status, 200);
      }
      assert.deepEqual(
        readdirSync(dir).filter((f) => f.endsWith('.tmp')),
        [],
        'no temporary file left behind',
      );
    } finally {
      await p.stop();
    }
    assert.equal(existsSync(join(dir, 'prod-7.json')), false, 'removed on clean stop');
  });

  it('honours --advertise', async () => {
    const p = createProducer({
      pods: 1,
      name: 'adv',
      http: '127.0.0.1:0',
      pushMode: 'off',
      sdDir: dir,
      advertise: 'producer-3.lab:9100',
      processMetrics: false,
    });
    await p.start();
    try {
      const entries = JSON.parse(readFileSync(join(dir, 'adv.json'), 'utf8'));
      assert.deepEqual(entries[0].targets, ['producer-3.lab:9100']);
    } finally {
      await p.stop();
    }
  });

  it('replaces the file atomically: a concurrent reader never sees a partial file', async () => {
    const big = sdEntries(
      '10.0.0.1:9100',
      'atomic',
      Array.from({ length: 2000 }, (_, i) => `atomic-p${i}`),
    );
    const small = big.slice(0, 1);
    await writeSdFile(dir, 'atomic', small);
    let reads = 0;
    let stop = false;
    const reader = (async () => {
      for (let i = 0; i < 5000 && !stop; i++) {
        const text = readFileSync(join(dir, 'atomic.json'), 'utf8');
        const parsed = JSON.parse(text); // throws on a torn read
        assert.ok(parsed.length === 1 || parsed.length === 2000);
        reads++;
        await new Promise((r) => setImmediate(r));
      }
    })();
    for (let i = 0; i < 30; i++) await writeSdFile(dir, 'atomic', i % 2 ? small : big);
    stop = true;
    await reader;
    assert.ok(reads > 0);
  });

  it('advertises the listen address, or the first external IPv4 when listening on a wildcard', () => {
    assert.equal(defaultAdvertise('127.0.0.1', 9100, '172.18.0.5'), '127.0.0.1:9100');
    assert.equal(defaultAdvertise('0.0.0.0', 9100, '172.18.0.5'), '172.18.0.5:9100');
    assert.equal(defaultAdvertise('0.0.0.0', 9100, null), '127.0.0.1:9100');
    assert.equal(defaultAdvertise('::', 9100, '172.18.0.5'), '172.18.0.5:9100');
  });
});

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '@pushpull/common';
import { createProducer, type Producer } from '../src/index.ts';
import { request } from './helpers.ts';

// The real promtool (Debian's prometheus package) lints what the pods and the process expose.
const PROMTOOL = '/usr/bin/promtool';

function promtoolCheck(body: string): { status: number | null; output: string } {
  const r = spawnSync(PROMTOOL, ['check', 'metrics'], { input: body, encoding: 'utf8', timeout: 20_000 });
  if (r.error) throw r.error;
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

describe('promtool check metrics', () => {
  let p: Producer;
  let base: string;
  const clock = new ManualClock(1_700_000_000_000);

  before(async () => {
    p = createProducer({ pods: 2, http: '127.0.0.1:0', pushMode: 'off' }, { clock, autoTick: false });
    base = (await p.start()).http;
  });
  after(() => p.stop());

  it('passes on a pod /metrics before the open (steady)', async () => {
    for (let i = 0; i < 100; i++) {
      clock.advance(100);
      p.tick();
    }
    const r = await request(base, 'GET', `/pods/${p.core.podIds[0]}/metrics`);
    assert.equal(r.status, 200);
    const check = promtoolCheck(r.text);
    assert.equal(check.status, 0, check.output);
  });

  it('passes on a pod /metrics at the peak (~240 KB)', async () => {
    p.core.schedule(clock.now() + 100);
    for (let i = 0; i < 50; i++) {
      clock.advance(100);
      p.tick();
    }
    const r = await request(base, 'GET', `/pods/${p.core.podIds[1]}/metrics`);
    assert.ok(r.text.length > 200_000, `${r.text.length} B`);
    const check = promtoolCheck(r.text);
    assert.equal(check.status, 0, check.output);
  });

  it('passes on the process /metrics, except prom-client default gauges named *_total (upstream)', async () => {
    const r = await request(base, 'GET', '/metrics');
    assert.match(r.text, /^producer_pods 2$/m);
    const check = promtoolCheck(r.text);
    const problems = check.output.split('\n').filter((l) => l.trim().length > 0);
    const ours = problems.filter(
      (l) => !/^nodejs_active_(handles|requests|resources)_total non-counter metrics/.test(l),
    );
    assert.deepEqual(ours, [], check.output);
    assert.ok(check.status === 0 || check.status === 3, check.output);
  });

  it('would fail on a lint problem (the check is real)', () => {
    const check = promtoolCheck('# HELP orders A.\n# TYPE orders counter\norders 1\n');
    assert.notEqual(check.status, 0);
  });
});

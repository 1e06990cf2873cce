import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  combineExpressions,
  decodeCombined,
  PULL_EXPRESSIONS,
  pullProbeFrom,
  storedOrdersExpression,
  summarizeAlerts,
} from '../src/probe/prom.ts';

describe('Prometheus probe queries', () => {
  it('folds several scalar expressions into one query, tagged per expression', () => {
    const q = combineExpressions({ a: 'count(up)', b: 'max(x{job="y"})' });
    assert.equal(
      q,
      'label_replace(count(up), "probe_key", "a", "", "") or label_replace(max(x{job="y"}), "probe_key", "b", "", "")',
    );
    const v = decodeCombined(
      [
        { metric: { probe_key: 'a' }, value: [0, '3'] },
        { metric: { probe_key: 'b' }, value: [0, 'NaN'] },
        { metric: { probe_key: 'zzz' }, value: [0, '1'] },
      ],
      ['a', 'b', 'c'],
    );
    assert.deepEqual(v, { a: 3, b: null, c: null });
  });

  it('counts PromQL leaves out when zero are 0 when their population exists', () => {
    const keys = Object.keys(PULL_EXPRESSIONS);
    const none = Object.fromEntries(keys.map((k) => [k, null]));
    const p = pullProbeFrom({ ...none, targets: 10, scrapeMax: 0.2 });
    assert.equal(p.targetsUp, 0);
    assert.equal(p.slowTargets, 0);
    assert.equal(pullProbeFrom(none).targetsUp, null);
  });

  it('the probe uses the contract job names and the recording rule', () => {
    for (const e of Object.values(PULL_EXPRESSIONS)) assert.ok(!/job="(?!producers"|collector")/.test(e), e);
    assert.match(PULL_EXPRESSIONS.storedOrdersRate, /pushpull:pull_orders:rate30s/);
    assert.equal(storedOrdersExpression(15_000), 'sum(last_over_time(orders_total{job="producers"}[46s]))');
  });

  it('alerts: counted by name and state; the lab’s own annotation group is not a measured source', () => {
    const a = summarizeAlerts([
      { labels: { alertname: 'InstanceDown', pod: 'p1' }, state: 'firing' },
      { labels: { alertname: 'InstanceDown', pod: 'p2' }, state: 'firing' },
      { labels: { alertname: 'InstanceDown', pod: 'p3' }, state: 'pending' },
      { labels: { alertname: 'PushgatewayGroupStale', job: 'pushpull_lab' }, state: 'firing' },
      { labels: { alertname: 'PushgatewayGroupStale', job: 'batch-job' }, state: 'firing' },
      { labels: { alertname: 'X' }, state: 'inactive' },
    ]);
    assert.deepEqual(a, [
      { name: 'InstanceDown', state: 'firing', count: 2 },
      { name: 'InstanceDown', state: 'pending', count: 1 },
      { name: 'PushgatewayGroupStale', state: 'firing', count: 1 },
    ]);
  });
});

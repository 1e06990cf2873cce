// Integration (#29): pull through per-host agents on the process runtime — real Prometheus in agent mode per
// producer, remote-writing to the real central Prometheus (its receiver on), no code of ours on the wire.
// 1. `burst --pull-topology agent` reconciles: pull's emitted = delivered + lost, the causes sum to the loss,
//    every agent and the central store recorded with their remote-write counters and cost.
// 2. The central store stops answering for 15 s (SIGSTOP): the agents buffer (their queue falls behind their
//    WAL), and after it comes back they catch up — the outage's samples land in the central store.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { scrapedAfterQuery } from '../src/analysis/accounting.ts';
import type { RunRecord } from '../src/core/record.ts';
import { agentNameOf } from '../src/core/record-agents.ts';
import { newWorkDir } from '../src/core/workdir.ts';
import { agentSelfSnapshot, remoteWriteLag } from '../src/probe/agents.ts';
import { processRuntimeFactory } from '../src/runtime/process/runtime.ts';
import type { Runtime, StackEndpoints } from '../src/runtime/types.ts';
import { assertBuilt, ROOT, readRunRecord, runCliProcess, smallProcessBurst } from './cli-helpers.ts';

const base = mkdtempSync(join(tmpdir(), 'pushpull-lab-agents-int-'));
const tmp = join(base, 'tmp');
const out = join(base, 'out');
mkdirSync(tmp);
after(() => rmSync(base, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('burst --pull-topology agent (integration)', { timeout: 120_000 }, () => {
  let code: number | null = null;
  let stdout = '';
  let stderr = '';
  let r: RunRecord;

  before(async () => {
    assertBuilt();
    const res = await runCliProcess(
      smallProcessBurst(
        10,
        5,
        '--pull-topology',
        'agent',
        '--duration',
        '10',
        '--scrape-interval',
        '2s',
        '--out',
        out,
      ),
      { TMPDIR: tmp },
      110_000,
    );
    ({ code, stdout, stderr } = res);
    r = readRunRecord(out) ?? r;
  });

  it('exits 0 with the agents in the path label, the topology recorded', () => {
    assert.equal(code, 0, `stdout:\n${stdout}\nstderr:\n${stderr}`);
    assert.match(stdout, /pull \(agents → remote_write\)\s+[\d,]+\s+[\d,]+/);
    assert.equal(r.config.pullTopology, 'agent');
  });

  it("reconciles: pull's emitted = Σ ledgers = delivered + lost, the causes sum to the loss", () => {
    const orders = r.ledgers.reduce((a, l) => a + l.total.orders, 0);
    const a = r.paths.pull;
    assert.ok(orders > 1000, `a burst happened (${orders} orders)`);
    assert.equal(a.emitted, orders);
    assert.equal(a.emitted, a.delivered + a.lost);
    assert.ok(
      a.delivered > 0.5 * orders,
      `the central store got the agents' samples (${a.delivered} of ${orders})`,
    );
    assert.equal(
      (a.causes ?? []).reduce((s, c) => s + c.orders, 0),
      Math.max(0, a.lost),
      JSON.stringify(a.causes),
    );
  });

  it('records every agent (one per producer host) with its remote-write counters and cost, and the central store', () => {
    const pa = r.pullAgents;
    assert.ok(pa, 'pullAgents in the record');
    assert.deepEqual(
      pa.agents.map((x) => [x.name, x.host, x.pods]),
      [
        [agentNameOf('producer-0'), 'producer-0', 5],
        [agentNameOf('producer-1'), 'producer-1', 5],
      ],
    );
    for (const x of pa.agents) {
      assert.ok((x.final?.samplesSent ?? 0) > 0, `${x.name} sent samples`);
      assert.ok((x.final?.samplesIn ?? 0) > 0, `${x.name} appended samples to its WAL`);
      assert.equal(x.scrapedAfterQuiesce, 5, `${x.name} scraped its 5 pods after quiesce`);
      assert.ok(x.cpuCores !== null && x.cpuCores > 0, `${x.name} CPU measured`);
      assert.ok((x.rssMaxBytes ?? 0) > 0, `${x.name} RSS measured`);
    }
    assert.ok((pa.central.receiver?.ok ?? 0) > 0, 'the central store received remote writes');
    assert.ok(pa.central.cpuCores !== null);
  });

  it("the pods' targets are the agents': 10 pods seen up during the burst", () => {
    const seen = r.series.filter((s) => s.pull?.targets === 10 && s.pull.targetsUp === 10);
    assert.ok(seen.length > 3, 'the agents source read every pod target');
    assert.ok(r.series.some((s) => s.agents && Object.keys(s.agents).length === 2));
  });
});

describe('central store outage with agents (integration)', { timeout: 90_000 }, () => {
  let runtime: Runtime | undefined;
  let endpoints: StackEndpoints;
  let centralPid = 0;
  const log: string[] = [];

  before(async () => {
    assertBuilt();
    runtime = processRuntimeFactory(ROOT).create();
    endpoints = await runtime.up({
      runId: `agents-outage-${process.pid}`,
      workDir: newWorkDir(`agents-outage-${process.pid}`),
      scrapeIntervalMs: 1000,
      withNodeExporter: false,
      pullTopology: 'agent',
      persistent: false,
      log: (m) => log.push(m),
    });
    await runtime.scale(1, {
      podsPerProducer: 3,
      seed: 7,
      pushMode: 'off',
      jitter: true,
      transport: 'udp',
      heartbeatMs: 1000,
      flushIntervalMs: 1000,
      fleetPods: 1400,
    });
    centralPid = Number(runtime.describe().components.prometheus);
  });
  after(async () => {
    if (centralPid) process.kill(centralPid, 'SIGCONT');
    await runtime?.down();
  });

  const query = async (q: string, at?: number): Promise<number | null> => {
    const time = at === undefined ? '' : `&time=${at.toFixed(3)}`;
    const res = await fetch(`${endpoints.prometheusUrl}/api/v1/query?query=${encodeURIComponent(q)}${time}`);
    const j = (await res.json()) as { data?: { result?: { value: [number, string] }[] } };
    const v = j.data?.result?.[0]?.value?.[1];
    return v === undefined ? null : Number(v);
  };

  it('buffers while the central store is down, then catches up: the outage’s samples arrive late', async () => {
    const agent = runtime!.pullAgents!()[0]!;
    const lag = async () =>
      remoteWriteLag(agentSelfSnapshot(await (await fetch(`${agent.url}/metrics`)).text()));
    // Before: the agent's pods arrive in the central store.
    for (let i = 0; i < 30 && !((await query('count(up{job="producers"} == 1)')) === 3); i++)
      await sleep(500);
    assert.equal(await query('count(up{job="producers"} == 1)'), 3, `pods via the agent; ${log.join('; ')}`);
    // "Scraped after t" reads each sample's own time: evaluated at t itself, no pod was scraped after it (the
    // old `timestamp(up == 1)` gave the evaluation time, so every pod up counted as scraped after anything).
    const evalAt = Date.now() / 1000;
    assert.equal(await query(`count(${scrapedAfterQuery(evalAt - 0.001)})`, evalAt), null);
    assert.equal(await query(`count(${scrapedAfterQuery(evalAt - 30)})`, evalAt), 3);
    const downAt = Date.now() / 1000;
    process.kill(centralPid, 'SIGSTOP');
    await sleep(15_000);
    const behind = await lag();
    process.kill(centralPid, 'SIGCONT');
    const upAt = Date.now() / 1000;
    assert.ok(behind !== null && behind >= 10, `the queue fell behind during the outage (lag ${behind} s)`);
    // After: the queue catches up, and the samples scraped during the outage are in the central store.
    let caught: number | null = null;
    for (let i = 0; i < 40; i++) {
      caught = await lag();
      if (caught !== null && caught < 3) break;
      await sleep(500);
    }
    assert.ok(caught !== null && caught < 3, `caught up (lag ${caught} s)`);
    const win = Math.ceil(upAt - downAt) - 2;
    const during = await query(
      `min(count_over_time(up{job="producers"}[${win}s] @ ${(upAt - 1).toFixed(3)}))`,
    );
    assert.ok(
      during !== null && during >= win / 2,
      `each pod's scrapes during the outage stored (${during} in ${win} s)`,
    );
  });
});

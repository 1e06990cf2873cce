// #27 integration (process runtime, real Prometheus, collector, producers and one collector agent per
// producer): `burst --push-topology agent`. Run 1 pauses agent-0 (a small receive buffer) for 1.5 s, then
// kills agent-1 at the peak: the path still reconciles, the causes sum exactly to the loss, what agent-1 held
// at its last reading is `agent-died`, and agent-0's socket drops are `agent-rcvbuf` and `agent-udp-drop`.
// Run 2 pauses the central collector (SIGSTOP) for 6 s at the peak with a small forward queue: the agents queue, then
// drop flushes, counted (`agent-queue-full`), and the causes still sum exactly.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RunRecord } from '../src/core/record.ts';
import { assertBuilt, type Running, startCli, waitFor } from './cli-helpers.ts';

const base = mkdtempSync(join(tmpdir(), 'pushpull-lab-agent-int-'));
after(() => rmSync(base, { recursive: true, force: true }));
before(() => assertBuilt());

const ARGS = [
  ...['burst', '--runtime', 'process', '--pods', '6', '--pods-per-producer', '3'],
  ...['--scrape-interval', '1s', '--duration', '15', '--push-topology', 'agent'],
];

/** The run's pids by component, from its work dir's lab.json (the only run under `tmp`). */
function pidsOf(tmp: string): Record<string, number> | null {
  for (const d of existsSync(tmp) ? readdirSync(tmp) : []) {
    const f = join(tmp, d, 'lab.json');
    if (d.startsWith('pushpull-lab-') && existsSync(f))
      return (JSON.parse(readFileSync(f, 'utf8')) as { pids: Record<string, number> }).pids;
  }
  return null;
}

/** Runs a burst; `atPeak` acts on the run's pids once its peak phase begins. */
async function burst(
  name: string,
  env: NodeJS.ProcessEnv,
  atPeak: (pids: Record<string, number>) => Promise<void>,
): Promise<{ code: number | null; r: RunRecord; run: Running }> {
  const tmp = join(base, `${name}-tmp`);
  const out = join(base, name);
  mkdirSync(tmp);
  const run = startCli([...ARGS, '--out', out], { TMPDIR: tmp, ...env });
  const killer = setTimeout(() => run.child.kill('SIGKILL'), 160_000);
  try {
    await waitFor('the peak phase', () => /\] peak/.test(run.stdout()), 120_000, 100);
    await atPeak(pidsOf(tmp)!);
    const { code } = await run.exited;
    if (code !== 0) console.error(run.stdout(), run.stderr());
    return { code, r: JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')) as RunRecord, run };
  } finally {
    clearTimeout(killer);
  }
}

const causeSum = (r: RunRecord) => (r.paths.push.causes ?? []).reduce((a, c) => a + c.orders, 0);
const causeOf = (r: RunRecord, name: string) =>
  r.paths.push.causes?.find((c) => c.cause === name)?.orders ?? 0;

describe('burst --push-topology agent: an agent killed at the peak', { timeout: 170_000 }, () => {
  let code: number | null = null;
  let r: RunRecord;
  let stdout = '';
  before(async () => {
    // agent-0 with a small receive buffer is paused 1.5 s at the peak, so its socket drops: the agents' own
    // drops are their own failure signal, and their resource condition is the agents', not the collector's.
    ({ code, r } = await burst(
      'killed',
      { PUSHPULL_TEST_AGENT_EXTRA_ARGS: '--rcvbuf 4KiB' },
      async (pids) => {
        process.kill(pids['agent-0']!, 'SIGSTOP');
        try {
          await new Promise((res) => setTimeout(res, 1500));
        } finally {
          process.kill(pids['agent-0']!, 'SIGCONT');
        }
        await new Promise((res) => setTimeout(res, 1500)); // a reading or two after
        process.kill(pids['agent-1']!, 'SIGKILL');
      },
    ).then((x) => {
      stdout = x.run.stdout();
      return x;
    }));
  });

  it('records the topology and labels the path', () => {
    assert.equal(code, 0);
    assert.equal(r.config.pushTopology, 'agent');
    assert.match(stdout, /push \(agent → OTLP\/HTTP\)/);
    assert.deepEqual(
      r.pushAgents?.readings.map((a) => [a.name, a.alive]),
      [
        ['agent-0', true],
        ['agent-1', false],
      ],
    );
  });

  it('the live agent forwarded every order it received; its host cost is measured', () => {
    const a0 = r.pushAgents!.readings[0]!;
    assert.ok(a0.orders.received > 0);
    assert.equal(a0.orders.forwarded, a0.orders.received);
    const c0 = r.pushAgents!.cost.find((c) => c.name === 'agent-0')!;
    assert.ok((c0.cpuCores ?? 0) > 0 && (c0.rssPeakBytes ?? 0) > 0, JSON.stringify(c0));
  });

  it("the loss is explained by the dead agent's last reading, and the causes sum exactly", () => {
    const push = r.paths.push;
    assert.ok(push.lost > 0, 'killing an agent at the peak loses orders');
    assert.equal(causeSum(r), push.lost);
    const a1 = r.pushAgents!.readings[1]!;
    const held =
      a1.orders.received -
      a1.orders.forwarded -
      a1.orders.droppedQueueFull -
      a1.orders.droppedForwardFailed -
      a1.orders.droppedTooLarge;
    assert.ok(held > 0, 'agent-1 held orders at its last reading');
    // Causes are taken in order of certainty, each capped at what is left: agent-died gets its reading's
    // count unless the causes before it already took the rest.
    const causes = push.causes!;
    const at = causes.findIndex((c) => c.cause === 'agent-died');
    assert.ok(at >= 0, JSON.stringify(causes));
    const before = causes.slice(0, at).reduce((a, c) => a + c.orders, 0);
    assert.equal(causes[at]!.orders, Math.min(held, push.lost - before));
    assert.ok(r.firstFailures.some((f) => f.path === 'push' && f.signal === 'died:agent-1'));
  });

  it("the paused agent's socket drops: their own signal and cause, the agents' resource condition", () => {
    const drops = r.pushAgents!.readings[0]!.socketDrops ?? 0;
    assert.ok(drops > 0, "agent-0's socket dropped while it was paused");
    assert.ok(causeOf(r, 'agent-rcvbuf') > 0, JSON.stringify(r.paths.push.causes));
    const f = r.firstFailures.find((x) => x.path === 'push' && x.signal === 'agent-udp-drop');
    assert.ok(f, JSON.stringify(r.firstFailures.map((x) => x.signal)));
    assert.match(f.detail, /dropped by the kernel on the agents' sockets/);
    assert.match(f.condition?.text ?? '', /the agents' receive buffers|the collector and its agents/);
    // The central collector's socket took no datagram, so it dropped none: no kernel-udp-drop is reported.
    assert.ok(!r.firstFailures.some((x) => x.signal === 'kernel-udp-drop'));
  });
});

describe('burst --push-topology agent: the central collector paused 6 s at the peak', {
  timeout: 170_000,
}, () => {
  let code: number | null = null;
  let r: RunRecord;
  before(async () => {
    ({ code, r } = await burst(
      'paused',
      // A small queue and a timeout longer than the pause: the request in flight waits, flushes queue up.
      { PUSHPULL_TEST_AGENT_EXTRA_ARGS: '--forward-queue-points 1500 --forward-timeout 30s' },
      async (pids) => {
        process.kill(pids.collector!, 'SIGSTOP');
        try {
          await new Promise((res) => setTimeout(res, 6000));
        } finally {
          process.kill(pids.collector!, 'SIGCONT');
        }
      },
    ));
  });

  it('the agents queued, then dropped what did not fit, counted; the causes sum exactly', () => {
    assert.equal(code, 0);
    const rs = r.pushAgents!.readings;
    assert.ok(
      rs.some((a) => a.queuePeakPoints > 0),
      'queued',
    );
    const full = rs.reduce((s, a) => s + a.orders.droppedQueueFull, 0);
    assert.ok(full > 0, 'dropped: queue full');
    assert.equal(r.paths.push.lost, full, 'nothing else was lost');
    assert.equal(causeOf(r, 'agent-queue-full'), full);
    assert.equal(causeSum(r), r.paths.push.lost);
  });
});

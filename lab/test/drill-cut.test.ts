// A fault reaches every path it claims to cut, or the cell says it did not: the "not applied" cell state
// (grid text, outcome, HTML, expectations), the partition mode's cells for a runtime that cannot cut, the
// process runtime's reach with and without relays, and the cut's own counts (sent but not received).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type Cell,
  cellOutcome,
  cellText,
  checkExpectations,
  type DrillRecord,
  gridRows,
  NOT_APPLIED,
  notAppliedCell,
  terminalGrid,
} from '../src/drill/grid.ts';
import type { Stack } from '../src/drill/harness.ts';
import { cutCounts, cutMetrics, pushCutSignal, pushCutWords } from '../src/drill/modes/cut.ts';
import { networkPartition } from '../src/drill/modes/lose-target.ts';
import { renderDrillHtml } from '../src/drill/report.ts';
import { parseScenario } from '../src/drill/scenario.ts';
import { partitionReach } from '../src/runtime/process/faults.ts';
import { ProducerRelays } from '../src/runtime/process/relays.ts';
import { ProcessRuntime } from '../src/runtime/process/runtime.ts';
import { emptyStack, type ProducerProc } from '../src/runtime/process/state.ts';
import type { PartitionReach, RelayCounts } from '../src/runtime/types.ts';

const WHY = 'this runtime has no relay for StatsD';

const measuredZero: Cell = {
  column: 'push-udp',
  variant: 'udp',
  detectedAfterS: null,
  signal: 'no alert in the 40 s window',
  lostCount: 0,
  lostPct: 0,
  detail: '',
};

const scenarioYaml = `name: np
title: Network partition
mode: network-partition
description: d
fleet: { pods: 4, podsPerProducer: 2 }
scrapeInterval: 2s
profile: steady
warmup: 1s
observe: 10s
push: { mode: per-event, transport: udp, heartbeat: 2s }
variants:
  - { name: udp, column: push-udp }
faults:
  - { at: 0s, action: partition, producer: 1 }
  - { at: 10s, action: heal, producer: 1 }
expect:
  - { column: push-udp, variant: udp, never: true }
  - { column: push-udp, variant: udp, lostPctAtMost: 1 }
  - { column: push-udp, variant: udp, lostPctAtLeast: 0 }
  - { column: pull, variant: udp, detectedWithin: 45s }
`;

const recordOf = (cells: Cell[]): DrillRecord => ({
  startedAt: '2026-12-07T00:00:00Z',
  runtime: 'process',
  scenarios: [
    {
      name: 'np',
      title: 'Network partition',
      mode: 'network-partition',
      runtime: 'process',
      startedAt: '',
      durationS: 1,
      cells,
      metrics: {},
      series: {},
      notes: [],
      expectations: [],
      error: null,
    },
  ],
});

describe('a path the fault did not reach: "not applied", never a 0', () => {
  const na = notAppliedCell('push-udp', 'udp', WHY);

  it('grid text, outcome and HTML say "not applied on this runtime" with the reason', () => {
    const cases: { cell: Cell; text: RegExp; notText: RegExp; words: string; tone: string }[] = [
      {
        cell: na,
        text: new RegExp(`^udp: ${NOT_APPLIED} \\(${WHY}\\)$`),
        notText: /lost|detected/,
        words: NOT_APPLIED,
        tone: 'none',
      },
      // The contrast: a measured zero is a loss of 0 and "silent".
      { cell: measuredZero, text: /lost 0 \(0\.0%\)/, notText: /not applied/, words: 'silent', tone: 'bad' },
    ];
    for (const c of cases) {
      assert.match(cellText(c.cell), c.text);
      assert.doesNotMatch(cellText(c.cell), c.notText);
      assert.deepEqual(cellOutcome(c.cell), { words: c.words, tone: c.tone });
    }
    const rows = gridRows(recordOf([na]));
    assert.match(rows[0]!.cells[1]!, /not applied on this runtime/);
    assert.match(terminalGrid(recordOf([na])), /push-udp {2}udp: not applied on this runtime/);
    const html = renderDrillHtml(recordOf([na]));
    assert.match(html, /<span class="outcome none">not applied on this runtime<\/span>/);
    assert.doesNotMatch(html, /data lost: 0/);
    assert.doesNotMatch(html, /silent/);
  });

  it('every expectation on a not-applied cell fails and says so (never passes as "never detected" or 0%)', () => {
    const s = parseScenario(scenarioYaml, 'np.yml');
    const r = checkExpectations(s, [na, notAppliedCell('pull', 'udp', WHY)], {});
    assert.deepEqual(
      r.map((x) => x.ok),
      [false, false, false, false],
    );
    for (const x of r) assert.match(x.text, /not applied on this runtime \(this runtime has no relay/);
    // Control: the same expectations on measured cells are judged on the numbers.
    const measured = checkExpectations(
      s,
      [measuredZero, { ...measuredZero, column: 'pull', detectedAfterS: 33 }],
      {},
    );
    assert.deepEqual(
      measured.map((x) => x.ok),
      [true, true, true, true],
    );
  });

  it('the partition mode on a runtime that cannot cut: no fault injected, both cells not applied', async () => {
    const scenario = parseScenario(scenarioYaml, 'np.yml');
    const faults: string[] = [];
    const reach: PartitionReach = { paths: { scrape: WHY, push: WHY }, controlApiDuringCut: true };
    const member = {
      name: 'producer-1',
      baseUrl: 'http://127.0.0.1:1',
      podIds: ['producer-1-p0'],
      handle: '1',
    };
    const stack = {
      runtime: {
        kind: 'process',
        partitionReach: () => reach,
        fault: async (k: string) => {
          faults.push(k);
        },
      },
      members: [member, member],
      scenario,
      variant: scenario.variants[0]!,
      deps: { log: () => {} },
    } as unknown as Stack;
    const out = await networkPartition.run(stack);
    assert.deepEqual(faults, [], 'nothing to inject');
    assert.deepEqual(
      out.cells.map((c) => [c.column, c.notApplied, c.lostCount, c.detectedAfterS]),
      [
        ['pull', WHY, null, null],
        ['push-udp', WHY, null, null],
      ],
    );
  });
});

describe("the process runtime's reach", () => {
  const producer = (relays?: ProducerRelays): ProducerProc =>
    ({
      member: { name: 'producer-0', baseUrl: '', podIds: [], handle: '1' },
      child: {},
      pods: 1,
      ...(relays ? { relays } : {}),
    }) as unknown as ProducerProc;

  it('without relays (a stack not started partitionable): both paths say why not', () => {
    const s = emptyStack('/nonexistent');
    s.producers.push(producer());
    const r = partitionReach(s, s.producers[0]!.member);
    assert.equal(typeof r.paths.scrape, 'string');
    assert.match(String(r.paths.push), /partitionable/);
    assert.equal(r.relays, undefined);
  });

  it('a persistent stack that asks to be partitionable is refused, naming the field (nothing started)', async () => {
    const rt = new ProcessRuntime('/nonexistent');
    await assert.rejects(
      rt.up({
        runId: 'r',
        workDir: '/nonexistent/w',
        scrapeIntervalMs: 2000,
        withNodeExporter: false,
        log: () => {},
        persistent: true,
        partitionable: true,
      }),
      (e: Error & { code?: string }) => e.code === 'LAB_ERR_CONFIG' && /partitionable/.test(e.message),
    );
  });

  it('with relays: both paths cut, the relays counted', async () => {
    const relays = await ProducerRelays.open('udp', '127.0.0.1:9');
    try {
      const s = emptyStack('/nonexistent');
      s.producers.push(producer(relays));
      const r = partitionReach(s, s.producers[0]!.member);
      assert.deepEqual(r.paths, { scrape: true, push: true });
      assert.equal(r.controlApiDuringCut, true);
      assert.deepEqual(r.relays?.push, {
        udp: { received: 0, forwarded: 0, droppedInCut: 0, forwardErrors: 0 },
      });
    } finally {
      await relays.close();
    }
  });
});

describe('what the cut counted (pure)', () => {
  const udp = (received: number, forwarded: number, droppedInCut: number): RelayCounts => ({
    scrape: { connections: 10, resetByCut: 1 },
    push: { udp: { received, forwarded, droppedInCut, forwardErrors: 0 } },
  });
  const tcp = (resetByCut: number): RelayCounts => ({
    scrape: { connections: 10, resetByCut },
    push: { tcp: { connections: 3, resetByCut } },
  });
  const cases: {
    name: string;
    before?: RelayCounts;
    after?: RelayCounts;
    words: RegExp | '';
    signal: string;
    metrics: Record<string, number>;
  }[] = [
    {
      name: 'udp: datagrams sent into the cut are sent but not received',
      before: udp(100, 100, 0),
      after: udp(700, 158, 542),

      words: /sent but not received: 542 datagrams sent into the cut and silently dropped.*58 of 600/,
      signal: '; 542 datagrams sent but not received (dropped in the cut)',
      metrics: { udpSentNotReceived: 542, scrapesResetByCut: 0 },
    },
    {
      name: 'tcp: connections reset by the cut',
      before: tcp(0),
      after: tcp(2),

      words: /the cut reset 2 open push connections/,
      signal: '',
      metrics: { pushConnectionsResetByCut: 2, scrapesResetByCut: 2 },
    },
    { name: 'no relays (docker): nothing counted', words: '', signal: '', metrics: {} },
  ];
  for (const c of cases)
    it(c.name, () => {
      const counts = cutCounts(c.before, c.after);
      const words = pushCutWords(counts);
      if (c.words === '') assert.equal(words, '');
      else assert.match(words, c.words);
      assert.equal(pushCutSignal(counts), c.signal);
      assert.deepEqual(cutMetrics(counts), c.metrics);
    });
});

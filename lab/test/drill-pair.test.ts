// #28, the drill's `2 replicas` column, pure parts: the pair scenarios' validation, where they run, each view's
// account (causes summing exactly), the survivor's signal in words, the grid cell and drill.html; the pair's peer
// scrape job in the derived Prometheus config and the peer files on the process runtime.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isLabError } from '@pushpull/common';
import { parse } from 'yaml';
import { cellOutcome, cellText, type DrillRecord, GRID_COLUMNS, gridRows } from '../src/drill/grid.ts';
import {
  killedAccount,
  liveAccount,
  mergeTotals,
  missedScrapes,
  ordersBetween,
  type PeerDetection,
  pairCell,
  peerSignal,
} from '../src/drill/modes/pair-account.ts';
import { PAIR_MODES, pairScenarios, pairUnsupported } from '../src/drill/pair-scenario.ts';
import { metricWords, renderDrillHtml, seriesWords } from '../src/drill/report.ts';
import { loadScenarios } from '../src/drill/run.ts';
import { parseScenario } from '../src/drill/scenario.ts';
import { preparePeerDir, writePeerFiles } from '../src/runtime/process/peer.ts';
import { derivePrometheusConfig } from '../src/runtime/prometheus-config.ts';
import { PEER_JOB, peerTargetsFile } from '../src/runtime/prometheus-peer.ts';

const scenarioDir = join(dirname(fileURLToPath(import.meta.url)), '../scenarios');

const pauseYaml = `
name: p
title: P
mode: replica-paused
description: d
fleet: { pods: 4, podsPerProducer: 2 }
scrapeInterval: 2s
profile: market-open
observe: 60s
push: { mode: off, heartbeat: off }
variants:
  - { name: pair, column: pull-pair }
faults:
  - { at: 2s, action: pause, replica: 2 }
  - { at: 42s, action: resume, replica: 2 }
expect:
  - { column: pull-pair, detectedWithin: 40s, lostPctAtMost: 0 }
`;

describe('pair scenarios: validation', () => {
  it('the shipped pair scenarios validate: one variant in column pull-pair, replica 2 faulted, 40 s pause', () => {
    const all = loadScenarios(scenarioDir).filter((s) => PAIR_MODES.includes(s.mode));
    assert.deepEqual(
      all.map((s) => s.mode),
      ['replica-dies', 'replica-paused'],
    );
    for (const s of all) {
      assert.deepEqual(
        s.variants.map((v) => v.column),
        ['pull-pair'],
      );
      assert.ok(s.faults.every((f) => f.replica === 2));
      assert.equal(s.profile, 'market-open', `${s.name} faults at the peak`);
    }
    const paused = all.find((s) => s.mode === 'replica-paused')!;
    assert.equal(paused.faults[1]!.atMs - paused.faults[0]!.atMs, 40_000);
  });

  it('parses a pause and its resume', () => {
    const s = parseScenario(pauseYaml, 'p.yml');
    assert.deepEqual(
      s.faults.map((f) => [f.action, f.atMs, f.replica]),
      [
        ['pause', 2000, 2],
        ['resume', 42000, 2],
      ],
    );
  });

  const bad: [string, string, RegExp][] = [
    [
      'a pair variant outside column pull-pair',
      pauseYaml.replace('column: pull-pair }\nfaults', 'column: pull }\nfaults'),
      /p\.yml: variants\[0\]\.column: mode replica-paused measures the Prometheus pair/,
    ],
    [
      'column pull-pair in another mode',
      `name: t\ntitle: T\nmode: target-dies\ndescription: d\nfleet: { pods: 4 }\nobserve: 30s\nvariants:\n  - { name: a, column: pull-pair }\nfaults:\n  - { at: 0s, action: kill, producer: 0 }\n`,
      /variants\[0\]\.column: column pull-pair belongs to the pair modes/,
    ],
    [
      'a replica fault in another mode',
      `name: t\ntitle: T\nmode: target-dies\ndescription: d\nfleet: { pods: 4 }\nobserve: 30s\nvariants:\n  - { name: a, column: pull }\nfaults:\n  - { at: 0s, action: kill, replica: 2 }\n`,
      /faults\[0\]\.replica: only the pair modes/,
    ],
    [
      'a pair fault without a replica',
      pauseYaml.replace('action: pause, replica: 2', 'action: pause'),
      /faults\[0\]\.replica: mode replica-paused faults a pull replica: say which/,
    ],
    [
      'replica 3',
      pauseYaml.replace('action: pause, replica: 2', 'action: pause, replica: 3'),
      /faults\[0\]\.replica: must be an integer in \[1, 2\]/,
    ],
    [
      'a pause without its resume',
      pauseYaml.replace('  - { at: 42s, action: resume, replica: 2 }\n', ''),
      /faults: mode replica-paused runs exactly pause then resume \(got pause\)/,
    ],
    [
      'a kill in the pause mode',
      pauseYaml.replace('action: pause, replica: 2', 'action: kill, replica: 2'),
      /faults: mode replica-paused runs exactly pause then resume \(got kill, resume\)/,
    ],
    [
      'a resume before its pause',
      pauseYaml.replace('at: 42s, action: resume', 'at: 1s, action: resume'),
      /faults\[1\]\.at: the resume must come after the pause/,
    ],
    [
      'a resume of the other replica',
      pauseYaml.replace('action: resume, replica: 2', 'action: resume, replica: 1'),
      /faults\[1\]\.replica: resume the replica the pause hit \(2\)/,
    ],
    [
      'an expectation on another column',
      pauseYaml.replace('{ column: pull-pair, detectedWithin', '{ column: pull, detectedWithin'),
      /expect\[0\]\.column: mode replica-paused measures the Prometheus pair/,
    ],
  ];
  for (const [what, text, re] of bad)
    it(`rejects ${what}, naming file and field`, () =>
      assert.throws(
        () => parseScenario(text, 'p.yml'),
        (e: unknown) => isLabError(e) && e.code === 'LAB_ERR_SCENARIO' && re.test(e.message),
      ));
});

describe('pair scenarios: where they run', () => {
  const all = loadScenarios(scenarioDir);
  const pair = all.filter((s) => PAIR_MODES.includes(s.mode)).map((s) => s.name);
  it('process: every scenario stays, no note', () => {
    const notes: string[] = [];
    assert.equal(pairScenarios('drill', all, 'process', (m) => notes.push(m)).length, all.length);
    assert.deepEqual(notes, []);
    assert.equal(pairUnsupported(all.find((s) => s.mode === 'replica-dies')!, 'process'), null);
  });
  for (const runtime of ['docker', 'swarm'] as const) {
    it(`${runtime}: drill leaves the pair rows out with a note; scenario refuses naming the runtime`, () => {
      const notes: string[] = [];
      const kept = pairScenarios('drill', all, runtime, (m) => notes.push(m));
      assert.deepEqual(
        all.filter((s) => !kept.includes(s)).map((s) => s.name),
        pair,
      );
      assert.match(notes.join(''), new RegExp(`${pair.join(', ')} left out`));
      assert.throws(
        () =>
          pairScenarios(
            'scenario',
            all.filter((s) => s.name === 'replica-dies'),
            runtime,
            () => {},
          ),
        (e: unknown) =>
          isLabError(e) && e.code === 'LAB_ERR_FAULT_UNSUPPORTED' && e.message.includes(`not ${runtime}`),
      );
    });
  }
});

const totals = (o: Record<string, number | null>) => new Map(Object.entries(o));

describe('pair accounts: every view against the ledgers, causes summing exactly', () => {
  const ledger = totals({ a: 100, b: 100 });
  it('merged = per pod the larger stored total; a pod neither answered for stays null', () => {
    assert.deepEqual(
      [...mergeTotals(totals({ a: 90, b: 100, c: null }), totals({ a: 95, b: 40, c: null })).entries()],
      [
        ['a', 95],
        ['b', 100],
        ['c', null],
      ],
    );
  });
  const cases: {
    name: string;
    stored: Record<string, number | null>;
    after: string[] | null;
    lost: number;
    causes: [string, number][];
  }[] = [
    { name: 'stored everything', stored: { a: 100, b: 100 }, after: ['a', 'b'], lost: 0, causes: [] },
    {
      name: 'scraped after quiesce and still short: not stored; never scraped again: scrape failed',
      stored: { a: 97, b: 90 },
      after: ['a'],
      lost: 13,
      causes: [
        ['scrape-failed', 10],
        ['not-stored', 3],
        ['unexplained', 0],
      ],
    },
    {
      name: 'did not answer: unverified, whole',
      stored: { a: 100, b: null },
      after: null,
      lost: 100,
      causes: [
        ['unverified', 100],
        ['unexplained', 0],
      ],
    },
  ];
  for (const c of cases)
    it(`a live view: ${c.name}`, () => {
      const a = liveAccount('v', ledger, totals(c.stored), c.after === null ? null : new Set(c.after));
      assert.equal(a.emitted, 200);
      assert.equal(a.lost, c.lost);
      assert.equal(a.stored + a.lost, a.emitted);
      assert.deepEqual(
        a.causes.map((k) => [k.cause, k.orders]),
        c.causes,
      );
      assert.equal(
        a.causes.reduce((s, k) => s + k.orders, 0),
        a.lost,
      );
    });

  it('a killed replica: its gap splits at the kill — after its last scrape, then after the kill', () => {
    // Ledgers at the kill 60/50, it had stored 55/45 of them; final ledgers 100/100.
    const a = killedAccount('replica 2 (killed)', ledger, totals({ a: 60, b: 50 }), totals({ a: 55, b: 45 }));
    assert.equal(a.stored, 100);
    assert.equal(a.lost, 100);
    assert.deepEqual(
      a.causes.map((k) => [k.cause, k.orders]),
      [
        ['replica-died:unscraped', 10],
        ['replica-died:after', 90],
        ['unexplained', 0],
      ],
    );
    const none = killedAccount('x', ledger, totals({ a: 60, b: 50 }), totals({ a: null, b: 45 }));
    assert.deepEqual(
      none.causes.map((k) => [k.cause, k.orders]),
      [
        ['unverified', 100],
        ['replica-died:unscraped', 5],
        ['replica-died:after', 50],
        ['unexplained', 0],
      ],
    );
  });

  it('a pause: orders generated in the gap, scrapes missed', () => {
    assert.equal(ordersBetween(totals({ a: 10, b: 20 }), totals({ a: 25, b: 20 })), 15);
    assert.equal(missedScrapes({ pauseS: 10, survivorScrapes: 20, pausedScrapes: 2, ordersInGap: 0 }), 18);
    assert.equal(missedScrapes({ pauseS: 10, survivorScrapes: 2, pausedScrapes: 3, ordersInGap: 0 }), 0);
  });
});

describe('the survivor’s signal and the grid cell', () => {
  const d = (o: Partial<PeerDetection>): PeerDetection => ({
    peerScraped: true,
    upZeroS: null,
    alertS: null,
    windowS: 50,
    ...o,
  });
  const signals: [string, PeerDetection, RegExp][] = [
    [
      'paged',
      d({ upZeroS: 3.1, alertS: 34.2 }),
      /^PrometheusPeerDown fired on replica 1 \(up\{job="prometheus-peer"\} == 0 on replica 1 after 3\.1 s\)$/,
    ],
    [
      'saw it, no page',
      d({ upZeroS: 3.1 }),
      /after 3\.1 s; no PrometheusPeerDown in the 50 s window: nothing paged$/,
    ],
    ['saw nothing', d({}), /replica 1 saw nothing in the 50 s window .*nothing paged$/],
    [
      'cannot see',
      d({ peerScraped: false }),
      /^nothing detects it: no replica scrapes the other \(no prometheus-peer job\)/,
    ],
  ];
  for (const [what, det, re] of signals) it(what, () => assert.match(peerSignal(det, '1'), re));

  const ledger = totals({ a: 100, b: 100 });
  const merged = liveAccount(
    'merged (max across replicas)',
    ledger,
    totals({ a: 100, b: 100 }),
    new Set(['a', 'b']),
  );
  const survivor = liveAccount(
    'replica 1 (survivor)',
    ledger,
    totals({ a: 100, b: 100 }),
    new Set(['a', 'b']),
  );
  const killed = killedAccount(
    'replica 2 (killed)',
    ledger,
    totals({ a: 60, b: 50 }),
    totals({ a: 55, b: 45 }),
  );
  const cell = pairCell({
    variant: 'pair',
    kind: 'kill',
    victim: { replica: '2', component: 'prometheus-2' },
    survivor: '1',
    afterOpenS: 2.8,
    detection: d({ upZeroS: 3.1, alertS: 34.2 }),
    merged,
    survivorAccount: survivor,
    victimAccount: killed,
  });
  it('the cell: the page as its detection, the merged view’s loss as its loss, every view’s account', () => {
    assert.equal(cell.column, 'pull-pair');
    assert.equal(cell.detectedAfterS, 34.2);
    assert.equal(cell.lostCount, 0);
    assert.deepEqual(
      cell.accounts?.map((a) => [a.view, a.lost]),
      [
        ['merged (max across replicas)', 0],
        ['replica 1 (survivor)', 0],
        ['replica 2 (killed)', 100],
      ],
    );
    assert.match(
      cell.detail,
      /^replica 2 \(prometheus-2\) SIGKILLed 2\.8 s after the open \(the peak\)\. Merged \(max across replicas\) lost nothing/,
    );
    assert.match(
      cell.detail,
      /replica 2 had stored 100 when killed and lost 100 of 200: 10 generated before the kill.*; 90 generated after the kill: nothing scraped it into this replica \(its TSDB/,
    );
    assert.match(cellText(cell), /^pair: detected 34 s; lost 0 \(0\.0%\); PrometheusPeerDown fired/);
    assert.deepEqual(cellOutcome(cell), { words: 'detected in 34 s', tone: 'good' });
  });
  it('a cell whose peer was never scraped is not detected, whatever the timings', () => {
    const c = pairCell({
      variant: 'pair',
      kind: 'pause',
      victim: { replica: '2', component: 'prometheus-2' },
      survivor: '1',
      afterOpenS: null,
      detection: d({ peerScraped: false, alertS: 5 }),
      merged,
      survivorAccount: survivor,
      victimAccount: survivor,
      gap: { pauseS: 10, survivorScrapes: 20, pausedScrapes: 2, ordersInGap: 40 },
    });
    assert.equal(c.detectedAfterS, null);
    assert.equal(cellOutcome(c).words, 'silent');
    assert.match(
      c.detail,
      /SIGSTOPped for 10 s, then SIGCONTed\..*; replica 2 missed 18 of 20 pod scrapes over the pause, and 40 orders generated meanwhile/,
    );
  });
  it('the grid has a pull-pair column; drill.html names it and lists every view with its causes', () => {
    const col = GRID_COLUMNS.indexOf('pull-pair');
    assert.ok(col >= 0, 'a pull-pair column');
    const record: DrillRecord = {
      startedAt: '2026-12-08T03:00:00Z',
      runtime: 'process',
      scenarios: [
        {
          name: 'replica-dies',
          title: 'A Prometheus replica dies at the peak',
          mode: 'replica-dies',
          runtime: 'process',
          startedAt: '2026-12-08T03:00:00Z',
          durationS: 60,
          cells: [cell],
          metrics: { peerAlertAfterS: 34.2, missedScrapes: 18 },
          series: {
            peerUp: [
              [0, 1],
              [3, 0],
            ],
          },
          notes: [],
          expectations: [],
          error: null,
        },
      ],
    };
    const row = gridRows(record)[0]!;
    assert.equal(row.cells.length, GRID_COLUMNS.length);
    assert.match(row.cells[col]!, /^pair: detected 34 s/);
    assert.ok(row.cells.every((c, i) => i === col || c === '—'));
    const html = renderDrillHtml(record);
    assert.match(html, /<th>pull, 2 replicas \(the Prometheus pair\)<\/th>/);
    assert.match(
      html,
      /<td>replica 2 \(killed\)<\/td><td class="r">200<\/td><td class="r">100<\/td><td class="r">100 \(50\.0%\)<\/td><td>10 generated before the kill/,
    );
    assert.match(html, /seconds until PrometheusPeerDown fired on the survivor/);
    assert.match(metricWords('pair.missedScrapes'), /^pod scrapes the paused replica missed — pair$/);
    assert.match(
      seriesWords('peerUp').title,
      /the faulted replica's up, as the surviving replica scrapes it/,
    );
  });
});

describe('the pair’s peer scrape (prometheus-peer)', () => {
  const source = readFileSync(
    join(dirname(fileURLToPath(import.meta.url)), '../../prometheus/prometheus.yml'),
    'utf8',
  );
  const derive = (peerSdFile?: string) =>
    derivePrometheusConfig(source, {
      sourceDir: '/etc/prometheus',
      sdDir: '/sd',
      scrapeIntervalMs: 2000,
      jobAddresses: { collector: 'c:1', pushgateway: 'p:1', 'node-exporter': null, prometheus: 'x:1' },
      role: 'pull',
      ...(peerSdFile ? { peerSdFile } : {}),
    });
  it('a replica of the pair scrapes its peer from its file; without the pair there is no such job', () => {
    const withPeer = derive('/w/peer/prometheus-2.json');
    assert.ok(withPeer.jobs.includes(PEER_JOB));
    const job = parse(withPeer.yaml).scrape_configs.find(
      (j: { job_name: string }) => j.job_name === PEER_JOB,
    );
    assert.deepEqual(job.file_sd_configs, [{ files: ['/w/peer/prometheus-2.json'], refresh_interval: '5s' }]);
    assert.equal(derive().jobs.includes(PEER_JOB), false);
  });
  it('the process runtime writes each replica the other’s address and replica label', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pushpull-lab-peer-'));
    try {
      preparePeerDir(dir);
      writePeerFiles(dir, [
        { component: 'prometheus', address: '127.0.0.1:1001', replica: '1' },
        { component: 'prometheus-2', address: '127.0.0.1:1002', replica: '2' },
      ]);
      const read = (c: string) => JSON.parse(readFileSync(peerTargetsFile(dir, c), 'utf8'));
      assert.deepEqual(read('prometheus'), [{ targets: ['127.0.0.1:1002'], labels: { peer_replica: '2' } }]);
      assert.deepEqual(read('prometheus-2'), [
        { targets: ['127.0.0.1:1001'], labels: { peer_replica: '1' } },
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

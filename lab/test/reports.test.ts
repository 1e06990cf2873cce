import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runCli } from '../src/commands/index.ts';
import { type Cell, cellOutcome } from '../src/drill/grid.ts';
import { metricWords, renderDrillHtml, seriesWords } from '../src/drill/report.ts';
import { compareCausesTable, comparePeaksTable } from '../src/report/compare.ts';
import { record } from './fixtures.ts';
import { record2 } from './report-fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'pushpull-lab-reports-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: { out: (s: string) => out.push(s), err: (s: string) => err.push(s), isTTY: false, env: {} },
    out,
    err,
  };
}
function runDir(name: string, r: object): string {
  const d = join(dir, name);
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, 'run.json'), JSON.stringify(r));
  return d;
}

describe('pushpull-lab report / compare', () => {
  const a = runDir('run-a', record());
  const b = runDir('run-b', record2({ interrupted: true }));

  it('report DIR re-renders report.md and report.html from run.json (both schemas)', async () => {
    for (const d of [a, b]) {
      const t = io();
      assert.equal(await runCli(['report', d], t.io), 0, t.err.join(''));
      assert.match(readFileSync(join(d, 'report.md'), 'utf8'), /## Where the loss went/);
      assert.match(readFileSync(join(d, 'report.html'), 'utf8'), /<h2>Where the loss went<\/h2>/);
      assert.match(t.out.join(''), /^verdict: /);
    }
  });
  it('bad directories and records are usage errors naming the path (exit 2)', async () => {
    const cases: [string[], RegExp][] = [
      [['report'], /give exactly one run directory/],
      [['report', join(dir, 'nope')], /not a directory/],
      [['report', dir], /no run\.json in it/],
      [['report', runDir('bad-json', {}).replace(/$/, '')], /schema "undefined" is not a run record/],
      [['report', runDir('old', { ...record(), schema: 'pushpull-lab/run@0' })], /run@0/],
      [['report', runDir('cut', { ...record(), paths: undefined })], /incomplete record, missing paths/],
      [['compare', a], /at least two run directories/],
    ];
    for (const [argv, re] of cases) {
      const t = io();
      assert.equal(await runCli(argv, t.io), 2, argv.join(' '));
      assert.match(t.err.join(''), re);
      assert.match(t.err.join(''), /LAB_ERR_FLAG_VALUE/);
    }
  });
  it('compare writes one side-by-side report into --out, and refuses a non-empty --out', async () => {
    const out = join(dir, 'cmp');
    const t = io();
    assert.equal(await runCli(['compare', a, b, '--out', out], t.io), 0, t.err.join(''));
    const md = readFileSync(join(out, 'compare.md'), 'utf8');
    assert.match(md, /\| run-a \| push \(per-event UDP\) failed first/);
    assert.match(md, /\*\*run-b: this run was interrupted at quiesce; the numbers are partial\.\*\*/);
    assert.match(md, /\| run-a \| push \| no cause accounting \(pushpull-lab\/run@1\) \|/);
    const html = readFileSync(join(out, 'compare.html'), 'utf8');
    assert.match(html, /<figure id="cmp-cumulative"><svg/);
    assert.match(html, /run-a: pull emitted/);
    assert.equal(await runCli(['compare', a, b, '--out', out], io().io), 2);
  });
  it('compare tables: peaks one column per run, causes per run and path', () => {
    const runs = [
      { label: 'a', record: record() },
      { label: 'b', record: record2() },
    ];
    assert.deepEqual(comparePeaksTable(runs).head, ['peak', 'a', 'b']);
    assert.ok(
      compareCausesTable(runs).rows.some(
        (r) => r[0] === 'b' && r[2] === 'died with a pod before its last scrape',
      ),
    );
  });
});

describe('drill.html in words', () => {
  const cell = (o: Partial<Cell>): Cell => ({
    column: 'push-udp',
    variant: 'heartbeat-on',
    detectedAfterS: null,
    signal: 'PushHeartbeatAbsent fired',
    lostCount: 0,
    lostPct: 0,
    detail: 'd',
    ...o,
  });
  it('each cell leads with its outcome', () => {
    assert.deepEqual(cellOutcome(cell({ detectedAfterS: 4.04 })), {
      words: 'detected in 4.0 s',
      tone: 'good',
    });
    assert.deepEqual(cellOutcome(cell({ detectedAfterS: 12, lostCount: 3 })), {
      words: 'detected in 12 s',
      tone: 'warn',
    });
    assert.deepEqual(cellOutcome(cell({})), { words: 'silent', tone: 'bad' });
    assert.deepEqual(cellOutcome(cell({ detectable: false, lostCount: 5 })), {
      words: 'lost data',
      tone: 'bad',
    });
    assert.deepEqual(cellOutcome(cell({ detectable: false })), { words: 'captured', tone: 'good' });
  });
  it('no internal key reaches the page', () => {
    assert.equal(
      metricWords('heartbeat-on.upZeroAfterS'),
      "seconds until the failed pod's up went to 0 (-1 = never) — heartbeats on",
    );
    assert.equal(
      seriesWords('heartbeat-off: alertsFiring').title,
      'alerts firing about the failed pod (pull and push) — heartbeats off',
    );
    const html = renderDrillHtml({
      startedAt: '2026-12-01T00:00:00Z',
      runtime: 'process',
      scenarios: [
        {
          name: 'target-dies',
          title: 'Target dies',
          mode: 'target-dies',
          runtime: 'process',
          startedAt: '',
          durationS: 60,
          cells: [cell({ detectedAfterS: 6 }), cell({ variant: 'heartbeat-off', signal: 'none' })],
          metrics: { 'heartbeat-on.upZeroAfterS': 6, 'heartbeat-off.targetsStillDiscovered': 1 },
          series: {
            'heartbeat-on: upVictim': [
              [0, 1],
              [5, 0],
            ],
            'heartbeat-on: alertsFiring': [
              [0, 0],
              [6, 1],
            ],
          },
          notes: [],
          expectations: [],
          error: null,
        },
      ],
    });
    for (const key of [
      'upVictim',
      'alertsFiring',
      'upZeroAfterS',
      'targetsStillDiscovered',
      'heartbeat-on:',
      'heartbeat-on.',
    ])
      assert.ok(!html.replace(/<script[\s\S]*?<\/script>/g, '').includes(key), key);
    assert.match(html, /<span class="outcome good">detected in 6\.0 s<\/span>/);
    assert.match(html, /<span class="outcome bad">silent<\/span>/);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCapacityFlags } from '../src/capacity/flags.ts';
import {
  renderCapacityHtml,
  renderCapacityMarkdown,
  renderCapacityTerminal,
} from '../src/capacity/report.ts';
import { type CapacityResult, pathReport } from '../src/capacity/result.ts';
import { searchCapacity, type TrialOutcome } from '../src/capacity/search.ts';

// capacity.md / .html / terminal from a search over fake push trials: each measure on its own axis, the
// replicate statistics per level, an aborted trial shown as evidence but never counted.

const push = (
  load: number,
  held: boolean,
  metrics: Record<string, number>,
  aborted = false,
): TrialOutcome => ({
  load,
  held,
  failedCriterion: held ? null : 'push.lossPct',
  failedValue: held ? null : (metrics.lossPct ?? null),
  machine: null,
  aborted,
  record: null,
  metrics,
});

async function result(): Promise<CapacityResult> {
  const { config } = parseCapacityFlags(['--paths', 'push'], {});
  let n = 0;
  // Holds ≤ 50 pods (loss 0.4 %), fails above (loss 5.1 %); the 8th trial is aborted at the deadline (23.6 %).
  const search = await searchCapacity(
    {
      start: 20,
      max: 1400,
      min: 1,
      precision: 0.1,
      deadlineMs: Number.POSITIVE_INFINITY,
      replicates: 3,
      criterion: 'lossPct',
    },
    async (load) => {
      n++;
      const m = {
        lossPct: load <= 50 ? 0.4 : 5.1,
        datagramsPerSecPeak: 300 * load,
        'cores.collector': load / 100,
      };
      return n === 8 ? push(load, false, { ...m, lossPct: 23.6 }, true) : push(load, load <= 50, m);
    },
    { now: () => 0 },
  );
  const paths = { push: pathReport('push', search) };
  return {
    schema: 'pushpull-lab/capacity@1',
    startedAt: '2026-12-07T20:00:00Z',
    finishedAt: '2026-12-07T20:20:00Z',
    runtime: 'process',
    budgetEnded: true,
    interrupted: false,
    config,
    criteria: config.criteria,
    environment: { cores: 2, memoryGiB: 23.5, node: 'v20' },
    paths,
    extrapolation: {},
    pushgatewayClaim: null,
    notes: [],
  };
}

describe('capacity reports', () => {
  it('capacity.html: one chart per measure, each on its own y-axis, the loss threshold drawn', async () => {
    const html = renderCapacityHtml(await result());
    const svgs = html.match(/<svg[\s\S]*?<\/svg>/g) ?? [];
    assert.equal(svgs.length, 3); // loss %, datagrams/s peak, collector cores
    const measures = ['loss %', 'datagrams/s peak', 'collector cores'];
    svgs.forEach((svg, i) => {
      assert.match(svg, new RegExp(`push: ${measures[i]} per trial against pods`));
    });
    assert.match(svgs[0]!, /push holds ≤ 1%/);
    assert.doesNotMatch(svgs[0]!, /datagrams\/s/);
  });

  it('an aborted trial is drawn and listed as evidence, never counted in its level', async () => {
    const r = await result();
    const p = r.paths.push!;
    const aborted = p.trials.find((t) => t.aborted)!;
    assert.ok(aborted, 'the fake search aborted one trial');
    const lvl = p.levels.find((l) => l.load === aborted.load)!;
    assert.equal(lvl.aborted, 1);
    assert.ok(!(lvl.criterion?.max === 23.6), 'the aborted 23.6 % is not in the level statistics');
    const html = renderCapacityHtml(r);
    assert.match(html, /aborted at the deadline \(not counted\)/);
    assert.match(renderCapacityMarkdown(r), /aborted at the deadline \(evidence, not counted\)/);
  });

  it('the markdown has the per-level replicate table and the terminal the bracket ratio', async () => {
    const r = await result();
    const md = renderCapacityMarkdown(r);
    assert.match(md, /\*\*push\*\*: ≥ 40 pods; 57 pods failed \(2 of 2 failed; push\.lossPct = 5\.1\)/);
    assert.match(md, /push: per level \(a level holds when 2 of 3 replicates hold\)/);
    const p = r.paths.push!;
    assert.ok(p.maxHeld !== null && p.minFailed !== null);
    assert.match(
      md,
      new RegExp(`\\| ${p.minFailed} \\| 2 \\| 0 \\| 0\\.00 \\| failed \\| lossPct \\| 5\\.100 \\|`),
    );
    assert.match(renderCapacityTerminal(r), new RegExp(`×${(p.minFailed! / p.maxHeld!).toFixed(2)}`));
  });
});

// The reports in a real browser: playwright-core driving Debian's chromium (apt-get install chromium;
// scripts/setup.sh installs it). Opens report.html (run@2 fixture), a compare report and drill.html, and
// checks what a reader sees: the verdict, every chart drawn with data, a tooltip on hover, no page error.
// Without /usr/bin/chromium it skips with a loud notice — unless CI is set, where it fails.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import type { DrillRecord } from '../src/drill/grid.ts';
import { renderDrillHtml } from '../src/drill/report.ts';
import { renderCompareHtml } from '../src/report/compare.ts';
import { renderHtml } from '../src/report/render.ts';
import { record } from './fixtures.ts';
import { record2 } from './report-fixtures.ts';
import { skipUnless } from './requirements.ts';

const CHROMIUM = '/usr/bin/chromium';
const skip = skipUnless(
  'report.browser.int.test.ts',
  existsSync(CHROMIUM),
  CHROMIUM,
  'as root: bash scripts/setup.sh, or apt-get install -y chromium',
);

const drill: DrillRecord = {
  startedAt: '2026-12-01T00:00:00Z',
  runtime: 'process',
  scenarios: [
    {
      name: 'target-dies',
      title: 'Target dies',
      mode: 'target-dies',
      runtime: 'process',
      startedAt: '2026-12-01T00:00:00Z',
      durationS: 60,
      cells: [
        {
          column: 'pull',
          variant: 'heartbeat-on',
          detectedAfterS: 36,
          signal: 'InstanceDown fired',
          lostCount: 12,
          lostPct: 0.4,
          detail: 'orders since the last scrape died with the pod',
        },
        {
          column: 'push-udp',
          variant: 'heartbeat-off',
          detectedAfterS: null,
          signal: 'none: heartbeats off',
          lostCount: 0,
          lostPct: 0,
          detail: 'd',
        },
      ],
      metrics: { 'heartbeat-on.upZeroAfterS': 6 },
      series: {
        'heartbeat-on: upVictim': Array.from(
          { length: 30 },
          (_, i) => [i, i < 6 ? 1 : 0] as [number, number],
        ),
      },
      notes: [],
      expectations: [{ text: 'pull: detected within 45 s', ok: true }],
      error: null,
    },
  ],
};

/**
 * Runs in the page (a string: the lab's TypeScript has no DOM types): every interactive figure drew a
 * canvas with ink on it; every static figure has SVG shapes.
 */
const CHARTS_DRAWN = `(() => {
  const out = [];
  let n = 0;
  for (const fig of document.querySelectorAll('figure')) {
    n++;
    const canvas = fig.querySelector('canvas');
    if (fig.classList.contains('live')) {
      if (!canvas || canvas.width === 0) { out.push(fig.id + ': no canvas'); continue; }
      const px = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      let ink = 0;
      for (let i = 3; i < px.length; i += 4) if (px[i] > 0) ink++;
      if (ink < 50) out.push(fig.id + ': blank canvas');
    } else if (fig.querySelectorAll('svg path, svg rect, svg circle').length === 0) out.push(fig.id + ': empty svg');
  }
  return { n, out };
})()`;

describe('reports in chromium', { skip, timeout: 180_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'pushpull-lab-browser-'));
  let ctx: BrowserContext;
  const errors: string[] = [];

  before(async () => {
    writeFileSync(join(dir, 'report.html'), renderHtml(record2()));
    writeFileSync(
      join(dir, 'compare.html'),
      renderCompareHtml([
        { label: 'run-a', record: record() },
        { label: 'run-b', record: record2() },
      ]),
    );
    writeFileSync(join(dir, 'drill.html'), renderDrillHtml(drill));
    ctx = await chromium.launchPersistentContext(join(dir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      timeout: 60_000,
      viewport: { width: 1200, height: 900 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    // Self-contained: any request that is not the file itself fails the test.
    await ctx.route(/^(?!file:)/, (route) => {
      errors.push(`network request: ${route.request().url()}`);
      return route.abort();
    });
  });
  after(async () => {
    await ctx?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function open(name: string): Promise<Page> {
    const page = await ctx.newPage();
    page.on('pageerror', (e) => errors.push(`${name}: ${e.message}`));
    await page.goto(`file://${join(dir, name)}`, { timeout: 30_000 });
    return page;
  }

  async function chartsRendered(page: Page): Promise<number> {
    const result = (await page.evaluate(CHARTS_DRAWN)) as { n: number; out: string[] };
    assert.deepEqual(result.out, []);
    return result.n;
  }

  async function tooltipOnHover(page: Page, figure: string): Promise<string> {
    const over = page.locator(`#${figure} .u-over`);
    const box = (await over.boundingBox())!;
    await over.hover({ position: { x: box.width * 0.6, y: box.height / 2 } });
    const tip = page.locator(`#${figure} .uptip`);
    await tip.waitFor({ state: 'visible', timeout: 5000 });
    return (await tip.textContent()) ?? '';
  }

  it('report.html: verdict, every chart drawn, a tooltip on hover', async () => {
    const page = await open('report.html');
    assert.match(
      (await page.locator('.verdict').textContent()) ?? '',
      /^push \(per-event UDP\) failed first/,
    );
    assert.ok((await chartsRendered(page)) >= 12);
    assert.equal(await page.locator('figure.live').count(), 10, 'every time-series chart is interactive');
    const tip = await tooltipOnHover(page, 'cumulative');
    assert.match(tip, /s after the open/);
    assert.match(tip, /push stored: /);
    assert.deepEqual(errors, []);
  });

  it('compare.html: both verdicts, overlaid charts, a tooltip', async () => {
    const page = await open('compare.html');
    const verdicts = (await page.locator('table').nth(1).textContent()) ?? '';
    assert.match(verdicts, /run-a\s*push \(per-event UDP\) failed first/);
    assert.match(verdicts, /run-b/);
    assert.ok((await chartsRendered(page)) >= 5);
    assert.match(await tooltipOnHover(page, 'cmp-cumulative'), /run-b: push stored/);
    assert.deepEqual(errors, []);
  });

  it('drill.html: outcomes in words, the chart drawn, a tooltip', async () => {
    const page = await open('drill.html');
    const grid = (await page.locator('#grid').textContent()) ?? '';
    assert.match(grid, /detected in 36 s/);
    assert.match(grid, /silent/);
    assert.ok((await chartsRendered(page)) >= 1);
    assert.match(await tooltipOnHover(page, 'target-dies-chart-0'), /1 = up, 0 = down: 0/);
    assert.deepEqual(errors, []);
  });
});

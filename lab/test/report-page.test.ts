import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { summariseRuns } from '../src/analysis/repeat.ts';
import { renderCompareMarkdown } from '../src/report/compare.ts';
import { htmlPage, htmlSections, markdownSections } from '../src/report/page.ts';
import { writeRepeatReport } from '../src/report/repeat.ts';
import { record } from './fixtures.ts';
import { assertSelfContained, record2 } from './report-fixtures.ts';

// The summary pages' shared pieces (report/page.ts) and the two pages built from them (compare, repeat).

const table = { head: ['a', 'b'], rows: [['1', '<2>']] };

describe('summary pages', () => {
  it('sections: a heading and its table, in Markdown and in HTML', () => {
    assert.deepEqual(markdownSections([{ heading: 'One', table }]), [
      '## One',
      '',
      '| a | b |\n| --- | --- |\n| 1 | <2> |',
      '',
    ]);
    const html = htmlSections([
      { heading: 'One', table },
      { heading: 'Two & three', table },
    ]);
    assert.match(html, /^<h2>One<\/h2>\n<table>.*&lt;2&gt;.*<\/table>\n<h2>Two &amp; three<\/h2>\n<table>/s);
  });

  it('a page: escaped title, its style and body, closed', () => {
    const page = htmlPage('a <b>', 'p{}', '<p>x</p>\n');
    assert.match(page, /^<!doctype html>\n/);
    assert.match(
      page,
      /<title>a &lt;b&gt;<\/title><style>p\{\}<\/style><\/head><body>\n<p>x<\/p>\n<\/body><\/html>\n$/,
    );
  });

  it('compare: every table under its heading, the runs table first', () => {
    const md = renderCompareMarkdown([
      { label: 'a', record: record() },
      { label: 'b', record: record2() },
    ]);
    const at = (s: string) => md.indexOf(s);
    assert.ok(at('| run | record |') > 0 && at('| run | record |') < at('## Verdicts'));
    assert.ok(at('## Verdicts') < at('## Loss per path'));
    assert.ok(at('## Loss per path') < at('## Where the loss went'));
    assert.ok(at('## Where the loss went') < at('## Peaks'));
    assert.ok(at('## Peaks') < at('Overlaid charts'));
  });

  it('repeat: repeat.md and a self-contained repeat.html with the runs section and the notes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'repeat-page-'));
    try {
      const rep = summariseRuns(
        [
          { record: record(), dir: 'd1' },
          { record: record2(), dir: 'd2' },
        ],
        3,
        ['a note <b>'],
      );
      writeRepeatReport(dir, rep);
      const md = readFileSync(join(dir, 'repeat.md'), 'utf8');
      assert.match(
        md,
        /## Runs \(each record and report in its own directory\)\n\n\| run \| failed first \| verdict \|/,
      );
      assert.match(md, /\n- a note <b>\n$/);
      const html = readFileSync(join(dir, 'repeat.html'), 'utf8');
      assertSelfContained(html);
      assert.match(html, /<title>pushpull-lab repeated bursts<\/title>/);
      assert.match(html, /<h2>Runs<\/h2>\n<table><thead><tr><th>run<\/th>/);
      assert.match(html, /<p>a note &lt;b&gt;<\/p>\n<\/body><\/html>\n$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

import { htmlTable } from './render.ts';
import { escapeXml } from './svg.ts';
import { markdownTable, type Table } from './tables.ts';

// The pieces the summary pages (compare, repeat) are made of: a run of titled tables, in Markdown and in
// HTML, and the self-contained HTML page around them.

export interface TableSection {
  heading: string;
  table: Table;
}

/** Markdown lines: each section as `## heading`, a blank line, its table, a blank line. */
export function markdownSections(sections: readonly TableSection[]): string[] {
  return sections.flatMap((s) => [`## ${s.heading}`, '', markdownTable(s.table), '']);
}

/** HTML: each section as an h2 and its table, one per line. */
export function htmlSections(sections: readonly TableSection[]): string {
  return sections.map((s) => `<h2>${escapeXml(s.heading)}</h2>\n${htmlTable(s.table)}`).join('\n');
}

/** A self-contained page (no network): `title` is text, `css` and `body` are the page's own markup. */
export function htmlPage(title: string, css: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeXml(title)}</title><style>${css}</style></head><body>
${body}</body></html>
`;
}

// A table as every report format renders it (terminal, markdown, HTML): a type of its own, so the files that
// build tables and the files that render them need not import each other.

export type Table = { head: string[]; rows: string[][]; align?: ('l' | 'r')[] };

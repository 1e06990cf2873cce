// The lab's layering rules as data, and a checker over the source tree (used by layers.test.ts).
// lab/README.md ("Layers") states the same rules in words; this file is what keeps them true.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

/**
 * Top-level folders of lab/src from the bottom up. A file may import its own folder and any folder on a
 * LOWER rank; never a folder on its own rank or above (that is how cycles and upward reaches start).
 */
export const LAYERS: readonly (readonly string[])[] = [
  ['core'], // the lab's vocabulary: run record, work dirs, flags, CLI plumbing, http, time, transports, exposition parser
  ['analysis', 'model', 'runtime'], // pure functions of the record; the seeded model; the Runtime interface
  ['probe', 'cost', 'nodes'], // reading the running stack; per-event cost; swarm nodes on one machine
  ['report'], // record → markdown / HTML
  ['burst'], // one market-open run
  ['drill'], // the failure-mode scenarios (built on the burst's pieces)
  ['capacity'], // the largest fleet each path holds (runs bursts as trials)
  ['commands'], // every verb's cli.ts (commands/<verb>/) and the command table (commands/index.ts)
  ['main.ts', 'index.ts'], // entry files
];

/** Concrete runtimes: only their own folder and the selector may name them. */
export const CONCRETE_RUNTIMES = ['runtime/process', 'runtime/docker', 'runtime/swarm'] as const;
export const RUNTIME_SELECTOR = 'runtime/select.ts';

export const MAX_FILE_LINES = 400;
export const MAX_FUNCTION_LINES = 80;

/**
 * The services (services/<name>/src) keep the same size limits. Hot paths may stay long when a split would
 * cost per line or per event; each exemption says why in one line.
 */
export const SERVICE_SIZE_EXEMPTIONS: Readonly<Record<string, SizeExemptions>> = {
  collector: {
    functions: {
      scanLine:
        "hot path: one pass over a line's bytes per received line; a call per field costs on every datagram",
    },
    files: {},
  },
  producer: { functions: {}, files: {} },
  common: { functions: {}, files: {} },
};

export interface SourceFile {
  /** Path relative to lab/src, with forward slashes. */
  path: string;
  /** Relative import specifiers resolved against lab/src (forward slashes), static and dynamic. */
  imports: string[];
}

const rankOf = new Map<string, number>();
LAYERS.forEach((names, rank) => {
  for (const n of names) rankOf.set(n, rank);
});

const topOf = (p: string) => p.split('/')[0]!;

/** Every breach of the layering rules, one sentence each (empty when the tree keeps them). */
export function layerViolations(files: readonly SourceFile[]): string[] {
  const out: string[] = [];
  for (const f of files) {
    const from = topOf(f.path);
    const fromRank = rankOf.get(from);
    if (fromRank === undefined) {
      out.push(
        `${f.path}: top-level "${from}" is not in the layer table (add it to LAYERS and lab/README.md)`,
      );
      continue;
    }
    for (const imp of f.imports) {
      const to = topOf(imp);
      if (to !== from) {
        const toRank = rankOf.get(to);
        if (toRank === undefined) out.push(`${f.path} imports ${imp}: "${to}" is not in the layer table`);
        else if (toRank >= fromRank)
          out.push(
            `${f.path} imports ${imp}: ${from} (layer ${fromRank}) may not import ${to} (layer ${toRank})`,
          );
      }
      const concrete = CONCRETE_RUNTIMES.find((c) => imp.startsWith(`${c}/`));
      if (concrete && !f.path.startsWith(`${concrete}/`) && f.path !== RUNTIME_SELECTOR)
        out.push(
          `${f.path} imports ${imp}: only ${concrete}/ itself and ${RUNTIME_SELECTOR} name a concrete runtime`,
        );
    }
  }
  return out;
}

/** Every .ts file under `dir`. */
export function walk(dir: string, out: string[] = []): string[] {
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (n.endsWith('.ts')) out.push(p);
  }
  return out;
}

const IMPORT_RE = /(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)(['"])(\.{1,2}\/[^'"]+)\1/g;

/** The lab's source files with their relative imports (re-exports and dynamic imports included). */
export function readSources(srcDir: string): SourceFile[] {
  const root = resolve(srcDir);
  return walk(root).map((file) => {
    const text = readFileSync(file, 'utf8');
    const imports: string[] = [];
    for (const m of text.matchAll(IMPORT_RE))
      imports.push(
        relative(root, resolve(dirname(file), m[2]!))
          .split(sep)
          .join('/'),
      );
    return { path: relative(root, file).split(sep).join('/'), imports };
  });
}

/** Over-size code let stand, each with a one-line reason: functions by qualified name, files by path. */
export interface SizeExemptions {
  /** `outer.inner` (enclosing function/class names joined by dots) → why it may stay long. */
  functions: Readonly<Record<string, string>>;
  /** Path relative to the source dir → why it may stay long. */
  files: Readonly<Record<string, string>>;
}

const NO_EXEMPTIONS: SizeExemptions = { functions: {}, files: {} };

/** A declaration's own name (function, method, class, or the variable/property a function is assigned to). */
function ownName(n: ts.Node): string | null {
  if ((ts.isFunctionDeclaration(n) || ts.isClassDeclaration(n) || ts.isMethodDeclaration(n)) && n.name)
    return n.name.getText();
  if (ts.isConstructorDeclaration(n)) return 'constructor';
  if ((ts.isGetAccessor(n) || ts.isSetAccessor(n)) && n.name) return n.name.getText();
  const p = n.parent;
  if ((ts.isArrowFunction(n) || ts.isFunctionExpression(n)) && p)
    if (ts.isVariableDeclaration(p) || ts.isPropertyAssignment(p) || ts.isPropertyDeclaration(p))
      return p.name.getText();
  return null;
}

/**
 * Files over MAX_FILE_LINES and functions over MAX_FUNCTION_LINES, with their sizes, unless exempted; and
 * every exemption that no longer matches anything (so the list cannot go stale).
 */
export function sizeViolations(srcDir: string, exempt: SizeExemptions = NO_EXEMPTIONS): string[] {
  const root = resolve(srcDir);
  const out: string[] = [];
  const used = new Set<string>();
  for (const file of walk(root)) {
    const text = readFileSync(file, 'utf8');
    const rel = relative(root, file).split(sep).join('/');
    const lines = text.split('\n').length;
    if (lines > MAX_FILE_LINES) {
      if (exempt.files[rel] !== undefined) used.add(rel);
      else out.push(`${rel}: ${lines} lines (max ${MAX_FILE_LINES})`);
    }
    const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
    const visit = (n: ts.Node, scope: string[]) => {
      const name = ownName(n);
      const inner = name === null ? scope : [...scope, name];
      if (ts.isFunctionLike(n) && 'body' in n && n.body) {
        const a = sf.getLineAndCharacterOfPosition(n.getStart()).line;
        const b = sf.getLineAndCharacterOfPosition(n.end).line;
        const qualified = inner.join('.');
        if (b - a + 1 > MAX_FUNCTION_LINES) {
          if (exempt.functions[qualified] !== undefined) used.add(qualified);
          else
            out.push(
              `${rel}:${a + 1}: ${qualified || 'a function'} of ${b - a + 1} lines (max ${MAX_FUNCTION_LINES})`,
            );
        }
      }
      ts.forEachChild(n, (c) => visit(c, inner));
    };
    visit(sf, []);
  }
  for (const k of [...Object.keys(exempt.functions), ...Object.keys(exempt.files)])
    if (!used.has(k)) out.push(`exemption "${k}" matches nothing over the limit: remove it`);
  return out;
}

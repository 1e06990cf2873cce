import { LabError } from '@pushpull/common';
import type { RunRecord } from '../core/record.ts';

// --fail-on <expr>: a tiny, safe expression language over the run record's facts (no eval).
//   expr := or ;  or := and (('||' | 'or') and)* ;  and := unary (('&&' | 'and') unary)*
//   unary := ('!' | 'not') unary | '(' expr ')' | cmp ;  cmp := operand op operand
//   operand := number ['%'] | fact ;  op := > >= < <= == !=
// e.g. `push.lossPct>1`, `pull.lost > 0 || push.lossPct >= 0.5%`, `scrape.p99 > 5 and not push.failed`.
// A fact that is null (e.g. loss % with nothing emitted) makes its comparison false.

export type Facts = Record<string, number | null>;

export const FACT_HELP: Record<string, string> = {
  'pull.emitted': 'orders generated (ledger)',
  'pull.delivered': "orders stored in Prometheus (pods' orders_total)",
  'pull.lost': 'pull emitted − delivered',
  'pull.lossPct': 'pull lost / emitted × 100',
  'pull.failed': '1 if any pull failure signal fired, else 0',
  'pull.firstFailureS': 'seconds after the open of the first pull failure (null if none)',
  'push.emitted': 'orders handed to the push client (ledger ordersPushed)',
  'push.delivered': 'orders counted by the collector (sum of `orders`)',
  'push.lost': 'push emitted − delivered',
  'push.lossPct': 'push lost / emitted × 100',
  'push.failed': '1 if any push failure signal fired, else 0',
  'push.firstFailureS': 'seconds after the open of the first push failure (null if none)',
  'scrape.p99': 'peak p99 scrape duration of the pods (s)',
  'scrape.max': 'slowest scrape of a pod (s)',
  'body.maxBytes': 'largest /metrics body of a pod (bytes)',
  'udp.dropsPerSec': 'peak kernel UDP drops per second',
  failures: 'number of first-failure signals',
  alerts: 'number of distinct alerts that fired',
};

export function factsOf(r: Pick<RunRecord, 'paths' | 'firstFailures' | 'peaks'>): Facts {
  const facts: Facts = {};
  for (const path of ['pull', 'push'] as const) {
    const a = r.paths[path];
    facts[`${path}.emitted`] = a.emitted;
    facts[`${path}.delivered`] = a.delivered;
    facts[`${path}.lost`] = a.lost;
    facts[`${path}.lossPct`] = a.lossPct;
    const first = r.firstFailures.find((f) => f.path === path);
    facts[`${path}.failed`] = first ? 1 : 0;
    facts[`${path}.firstFailureS`] = first ? first.secondsAfterBurst : null;
  }
  facts['scrape.p99'] = r.peaks.scrapeP99Seconds;
  facts['scrape.max'] = r.peaks.scrapeMaxSeconds;
  facts['body.maxBytes'] = r.peaks.bodyBytesMax;
  facts['udp.dropsPerSec'] = r.peaks.udpDropsPerSec;
  facts.failures = r.firstFailures.length;
  facts.alerts = r.firstFailures.filter((f) => f.signal.startsWith('alert:')).length;
  return facts;
}

type CmpOp = '>' | '>=' | '<' | '<=' | '==' | '!=';
type Operand = { kind: 'num'; value: number } | { kind: 'fact'; name: string };
export type FailOnAst =
  | { kind: 'cmp'; op: CmpOp; left: Operand; right: Operand }
  | { kind: 'and' | 'or'; left: FailOnAst; right: FailOnAst }
  | { kind: 'not'; expr: FailOnAst };

type Token =
  | { t: 'num'; v: number; pos: number }
  | { t: 'id'; v: string; pos: number }
  | { t: 'op'; v: string; pos: number };

function fail(expr: string, pos: number, msg: string): never {
  throw new LabError('LAB_ERR_FLAG_VALUE', `--fail-on: "${expr}": ${msg} at position ${pos + 1}`, {
    flag: 'fail-on',
    value: expr,
  });
}

function tokenize(expr: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const maxTokens = 256;
  while (i < expr.length) {
    if (out.length > maxTokens) fail(expr, i, `more than ${maxTokens} tokens`);
    const c = expr[i]!;
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    const rest = expr.slice(i);
    const num = /^(\d+(?:\.\d+)?|\.\d+)(?:e[+-]?\d+)?%?/i.exec(rest);
    if (num) {
      out.push({ t: 'num', v: Number(num[0].replace('%', '')), pos: i });
      i += num[0].length;
      continue;
    }
    const id = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*/.exec(rest);
    if (id) {
      const w = id[0];
      if (w === 'and' || w === 'or' || w === 'not')
        out.push({ t: 'op', v: w === 'and' ? '&&' : w === 'or' ? '||' : '!', pos: i });
      else out.push({ t: 'id', v: w, pos: i });
      i += w.length;
      continue;
    }
    const op = /^(>=|<=|==|!=|&&|\|\||>|<|!|\(|\))/.exec(rest);
    if (op) {
      out.push({ t: 'op', v: op[0], pos: i });
      i += op[0].length;
      continue;
    }
    fail(expr, i, `unexpected "${c}"`);
  }
  return out;
}

/** Parses and validates an expression (every fact name must be known). */
export function parseFailOn(expr: string, knownFacts: readonly string[] = Object.keys(FACT_HELP)): FailOnAst {
  if (expr.trim() === '') fail(expr, 0, 'empty expression');
  const toks = tokenize(expr);
  let k = 0;
  const peek = () => toks[k];
  const isOp = (v: string) => {
    const t = peek();
    return t !== undefined && t.t === 'op' && t.v === v;
  };
  const endPos = expr.length;

  const operand = (): Operand => {
    const t = toks[k];
    if (!t) fail(expr, endPos, 'expected a fact or a number');
    if (t.t === 'num') {
      k++;
      return { kind: 'num', value: t.v };
    }
    if (t.t === 'id') {
      if (!knownFacts.includes(t.v))
        fail(expr, t.pos, `unknown fact "${t.v}" (known: ${knownFacts.join(', ')})`);
      k++;
      return { kind: 'fact', name: t.v };
    }
    return fail(expr, t.pos, `expected a fact or a number, got "${t.v}"`);
  };
  const cmp = (): FailOnAst => {
    const left = operand();
    const t = toks[k];
    if (t?.t !== 'op' || !['>', '>=', '<', '<=', '==', '!='].includes(t.v))
      fail(expr, t ? t.pos : endPos, 'expected a comparison (> >= < <= == !=)');
    k++;
    const right = operand();
    return { kind: 'cmp', op: t.v as CmpOp, left, right };
  };
  let depth = 0;
  const unary = (): FailOnAst => {
    if (isOp('!')) {
      k++;
      return { kind: 'not', expr: unary() };
    }
    if (isOp('(')) {
      if (++depth > 32) fail(expr, peek()!.pos, 'parentheses nested too deeply');
      k++;
      const e = orExpr();
      if (!isOp(')')) fail(expr, peek()?.pos ?? endPos, 'expected ")"');
      k++;
      depth--;
      return e;
    }
    return cmp();
  };
  const andExpr = (): FailOnAst => {
    let left = unary();
    while (isOp('&&')) {
      k++;
      left = { kind: 'and', left, right: unary() };
    }
    return left;
  };
  function orExpr(): FailOnAst {
    let left = andExpr();
    while (isOp('||')) {
      k++;
      left = { kind: 'or', left, right: andExpr() };
    }
    return left;
  }
  const ast = orExpr();
  if (k < toks.length) fail(expr, toks[k]!.pos, `unexpected "${String(toks[k]!.v)}"`);
  return ast;
}

function value(o: Operand, facts: Facts): number | null {
  return o.kind === 'num' ? o.value : (facts[o.name] ?? null);
}

export function evalFailOn(ast: FailOnAst, facts: Facts): boolean {
  switch (ast.kind) {
    case 'and':
      return evalFailOn(ast.left, facts) && evalFailOn(ast.right, facts);
    case 'or':
      return evalFailOn(ast.left, facts) || evalFailOn(ast.right, facts);
    case 'not':
      return !evalFailOn(ast.expr, facts);
    case 'cmp': {
      const a = value(ast.left, facts);
      const b = value(ast.right, facts);
      if (a === null || b === null || Number.isNaN(a) || Number.isNaN(b)) return false;
      switch (ast.op) {
        case '>':
          return a > b;
        case '>=':
          return a >= b;
        case '<':
          return a < b;
        case '<=':
          return a <= b;
        case '==':
          return a === b;
        case '!=':
          return a !== b;
      }
    }
  }
  return false;
}

// Helpers for the integration tests: run the built CLI (lab/dist/main.js) as a real child process.
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { promisify } from 'node:util';
import { paths, repoRoot } from '../src/core/paths.ts';
import type { RunRecord } from '../src/core/record.ts';

export const ROOT = repoRoot();
export const LAB_MAIN = join(ROOT, 'lab', 'dist', 'main.js');

export function assertBuilt(): void {
  const p = paths(ROOT);
  for (const f of [LAB_MAIN, p.collectorMain, p.producerMain])
    if (!existsSync(f)) throw new Error(`${f} missing: run \`npm run build\` first`);
}

export interface Running {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startCli(args: string[], env: NodeJS.ProcessEnv = {}): Running {
  let out = '';
  let err = '';
  const child = spawn(process.execPath, [LAB_MAIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, NODE_OPTIONS: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Runs the CLI to completion (bounded); returns exit code and output. */
export async function runCliProcess(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 170_000) {
  const r = startCli(args, env);
  const timer = setTimeout(() => r.child.kill('SIGKILL'), timeoutMs);
  const { code } = await r.exited;
  clearTimeout(timer);
  return { code, stdout: r.stdout(), stderr: r.stderr(), pid: r.child.pid ?? 0 };
}

export async function waitFor<T>(
  what: string,
  fn: () => T | null | undefined | false,
  timeoutMs: number,
  stepMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < 100_000 && Date.now() < deadline; i++) {
    const v = fn();
    if (v) return v;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/**
 * Live processes of one test file's drill runs: the drill marker and that file's TMPDIR (its children inherit
 * it). Another drill on the machine (another test run, another engineer) is not ours to judge.
 */
export function drillPidsUnder(tmp: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const env = readFileSync(`/proc/${d}/environ`, 'latin1').split('\0');
      const ours = env.includes(`TMPDIR=${tmp}`) && env.some((e) => e.startsWith('PUSHPULL_LAB_RUN=drill-'));
      if (ours && alive(Number(d))) out.push(Number(d));
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}

/** Pids of every process carrying the lab's run marker for `runId` (or any run when omitted). */
export function markedPids(runId?: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const env = readFileSync(`/proc/${d}/environ`, 'latin1').split('\0');
      if (
        env.some((e) => (runId ? e === `PUSHPULL_LAB_RUN=${runId}` : e.startsWith('PUSHPULL_LAB_RUN='))) &&
        alive(Number(d))
      )
        out.push(Number(d));
    } catch {}
  }
  return out;
}

export function workDirs(tmp: string): string[] {
  try {
    return readdirSync(tmp).filter((n) => n.startsWith('pushpull-lab-'));
  } catch {
    return [];
  }
}

/**
 * A scratch directory for one test file, with a `tmp` inside it that the file may point TMPDIR at (so it can
 * see that the lab's work dirs are removed). Removed, and TMPDIR restored, after the file's tests.
 */
export function scratchTmp(prefix: string): { base: string; tmp: string } {
  const base = mkdtempSync(join(tmpdir(), prefix));
  const tmp = join(base, 'tmp');
  mkdirSync(tmp);
  const savedTmp = process.env.TMPDIR;
  after(() => {
    process.env.TMPDIR = savedTmp;
    rmSync(base, { recursive: true, force: true });
  });
  return { base, tmp };
}

const execFileP = promisify(execFile);

/**
 * What one end-to-end test may call its own: one run (`pushpull.lab=<run id>`), or every run one lab process
 * created (`pushpull.lab.owner=<pid>`, for a Ctrl-C'd CLI or a drill's several runs). "Nothing left" checks
 * look only there, so another lab run on the same engine (another test file, another engineer) never fails
 * them, and theirs never hide ours.
 */
export type RunScope = { runId: string } | { owner: number };

/** The `docker … --filter` value of a scope; an empty run id or a bad pid is an error, never "every run". */
export function scopeFilter(scope: RunScope): string {
  if ('runId' in scope) {
    if (!/^[\w.-]+$/.test(scope.runId)) throw new Error(`bad run id "${scope.runId}"`);
    return `label=pushpull.lab=${scope.runId}`;
  }
  if (!Number.isInteger(scope.owner) || scope.owner <= 0) throw new Error(`bad owner pid ${scope.owner}`);
  return `label=pushpull.lab.owner=${scope.owner}`;
}

/** Names of the containers / networks of a run scope. */
export async function labContainers(scope: RunScope): Promise<string[]> {
  const r = await execFileP('docker', ['ps', '-a', '--filter', scopeFilter(scope), '--format', '{{.Names}}']);
  return r.stdout.split('\n').filter(Boolean);
}
export async function labNetworks(scope: RunScope): Promise<string[]> {
  const r = await execFileP('docker', [
    'network',
    'ls',
    '--filter',
    scopeFilter(scope),
    '--format',
    '{{.Name}}',
  ]);
  return r.stdout.split('\n').filter(Boolean);
}

/** Builds (or refreshes) the stack's images from local binaries, as CI does: no registry needed. */
export async function airgapImages(): Promise<void> {
  await execFileP('bash', ['scripts/airgap-images.sh', '--no-pull'], { cwd: ROOT, timeout: 300_000 });
}

/** `burst` on `runtime` with the `fleet` flags, for 30 s at 2 s scrapes, into `out`. */
function shortBurstArgs(runtime: string, fleet: string[], out: string): string[] {
  return [
    'burst',
    '--runtime',
    runtime,
    ...fleet,
    '--duration',
    '30s',
    '--scrape-interval',
    '2s',
    '--out',
    out,
  ];
}

/**
 * A burst of 20 pods for 30 s at 2 s scrapes on `runtime` run to completion into `out` (`more`: further
 * flags), asserted to exit 0 with an error-free record of that runtime. The record and the CLI's output.
 */
export async function runSmallBurst(o: {
  runtime: string;
  out: string;
  more?: string[];
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
}): Promise<{ r: RunRecord; stdout: string }> {
  const res = await runCliProcess(
    shortBurstArgs(o.runtime, ['--pods', '20', ...(o.more ?? [])], o.out),
    o.env,
    o.timeoutMs,
  );
  assert.equal(res.code, 0, `stdout:\n${res.stdout}\nstderr:\n${res.stderr}`);
  const r = JSON.parse(readFileSync(join(o.out, 'run.json'), 'utf8')) as RunRecord;
  assert.equal(r.environment.runtime, o.runtime);
  assert.equal(r.error, null);
  return { r, stdout: res.stdout };
}

/**
 * The accounting every finished burst must reconcile: `pods` pods in the ledgers, a burst that happened,
 * the pull path emitting every order, and emitted == delivered + lost on both paths. Returns the ledgers'
 * orders and pushed orders for further checks.
 */
export function assertReconciled(r: RunRecord, pods: number): { orders: number; pushed: number } {
  assert.equal(
    r.ledgers.reduce((a, l) => a + Object.keys(l.pods).length, 0),
    pods,
  );
  const orders = r.ledgers.reduce((a, l) => a + l.total.orders, 0);
  const pushed = r.ledgers.reduce((a, l) => a + l.total.ordersPushed, 0);
  assert.ok(orders > 10_000, `a burst happened (${orders} orders)`);
  assert.equal(r.paths.pull.emitted, orders);
  for (const p of ['pull', 'push'] as const)
    assert.equal(r.paths[p].emitted, r.paths[p].delivered + r.paths[p].lost, p);
  return { orders, pushed };
}

/**
 * Ctrl-C during warm-up: a small burst on `runtime` (10 pods, 5 per producer, 30 s, 2 s scrapes, into
 * `out`), interrupted once it says "warmup" and `running` has checked what it started; SIGKILL after
 * `killAfterMs` if it has not exited by then. Its exit code and stderr.
 */
export async function interruptDuringWarmup(o: {
  runtime: string;
  out: string;
  env: NodeJS.ProcessEnv;
  warmupWithinMs: number;
  killAfterMs: number;
  /** Called while the run is in its warm-up, with the pid of the lab process (the owner of its objects). */
  running: (pid: number) => void | Promise<void>;
}): Promise<{ code: number | null; stderr: string; pid: number }> {
  const r = startCli(shortBurstArgs(o.runtime, ['--pods', '10', '--pods-per-producer', '5'], o.out), o.env);
  await waitFor('warm-up to start', () => /warmup/.test(r.stderr() + r.stdout()), o.warmupWithinMs, 200);
  const pid = r.child.pid ?? 0;
  await o.running(pid);
  r.child.kill('SIGINT');
  const timer = setTimeout(() => r.child.kill('SIGKILL'), o.killAfterMs);
  const { code } = await r.exited;
  clearTimeout(timer);
  return { code, stderr: r.stderr(), pid };
}

/** `burst` on a small process-runtime fleet: its first flags, the rest (`--duration`, …) after them. */
export function smallProcessBurst(pods: number, podsPerProducer: number, ...rest: string[]): string[] {
  const fleet = ['--pods', String(pods), '--pods-per-producer', String(podsPerProducer)];
  return ['burst', '--runtime', 'process', ...fleet, ...rest];
}

/** The record a run wrote to `out` (run.json), or undefined when it wrote none. */
export function readRunRecord(out: string): RunRecord | undefined {
  const f = join(out, 'run.json');
  return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as RunRecord) : undefined;
}

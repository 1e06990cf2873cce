import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { LabError } from '@pushpull/common';
import { httpOk } from '../../core/http.ts';
import { abortableSleep } from '../../core/time.ts';

// Child processes of the process runtime: spawned detached (own process group, so a terminal Ctrl-C
// reaches only the lab, which then tears down in order), output to files in the run's work dir (so a
// stack started by `up` survives the CLI that started it), each carrying the run marker in its
// environment (so `down` and the reaper never signal a recycled pid that is not ours).

export const RUN_MARKER_ENV = 'PUSHPULL_LAB_RUN';

export interface SpawnedChild {
  name: string;
  pid: number;
  /** Present when spawned by this process (exit events); absent after attach(). */
  proc: ChildProcess | null;
  stdoutPath: string;
  stderrPath: string;
  /** Size of the stdout file when this process was spawned (a restarted component appends to it). */
  stdoutOffset: number;
  exited: { code: number | null; signal: string | null } | null;
}

export interface SpawnOptions {
  name: string;
  command: string;
  args: string[];
  logDir: string;
  runId: string;
  cwd?: string;
  env?: Record<string, string>;
  /** Let the child outlive this process (no ref on it). */
  persistent: boolean;
}

export function spawnChild(o: SpawnOptions): SpawnedChild {
  const stdoutPath = join(o.logDir, `${o.name}.out`);
  const stderrPath = join(o.logDir, `${o.name}.err`);
  const out = openSync(stdoutPath, 'a');
  const stdoutOffset = fstatSync(out).size;
  const err = openSync(stderrPath, 'a');
  let proc: ChildProcess;
  try {
    proc = spawn(o.command, o.args, {
      cwd: o.cwd,
      detached: true,
      stdio: ['ignore', out, err],
      env: { ...process.env, NODE_OPTIONS: '', ...o.env, [RUN_MARKER_ENV]: o.runId },
    });
  } finally {
    closeSync(out);
    closeSync(err);
  }
  const child: SpawnedChild = {
    name: o.name,
    pid: proc.pid ?? -1,
    proc,
    stdoutPath,
    stderrPath,
    stdoutOffset,
    exited: null,
  };
  proc.on('exit', (code, signal) => {
    child.exited = { code, signal };
  });
  proc.on('error', (e) => {
    child.exited = { code: null, signal: `spawn error: ${e.message}` };
  });
  if (o.persistent) proc.unref();
  if (child.pid < 0) {
    throw new LabError(
      'LAB_ERR_MISSING_BINARY',
      `could not start ${o.name}: "${o.command}" (is it installed?)`,
      {
        command: o.command,
      },
    );
  }
  return child;
}

/** /proc/<pid>/stat state letter, or null when the process does not exist. */
export function procState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return null;
  }
}

/** Alive = exists and is not a zombie (a zombie of a reparented child may never be reaped in a container). */
export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  const s = procState(pid);
  return s !== null && s !== 'Z' && s !== 'X';
}

/** True when the process carries our run marker (environment) — guards against recycled pids. */
export function hasRunMarker(pid: number, runId: string): boolean {
  try {
    const env = readFileSync(`/proc/${pid}/environ`, 'latin1');
    return env.split('\0').includes(`${RUN_MARKER_ENV}=${runId}`);
  } catch {
    return false;
  }
}

let clkTck: number | null = null;
function ticksPerSecond(): number {
  if (clkTck === null) {
    const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 2000 });
    const n = Number(r.stdout?.trim());
    clkTck = Number.isFinite(n) && n > 0 ? n : 100;
  }
  return clkTck;
}

/** User + system CPU seconds of a process from /proc/<pid>/stat (null when it is gone). */
export function cpuSecondsOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(rest[11]);
    const stime = Number(rest[12]);
    if (!Number.isFinite(utime) || !Number.isFinite(stime)) return null;
    return (utime + stime) / ticksPerSecond();
  } catch {
    return null;
  }
}

/** Resident set size of a process in bytes from /proc/<pid>/status (null when it is gone). */
export function rssBytesOf(pid: number): number | null {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

function signal(pid: number, sig: NodeJS.Signals | 0): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

/**
 * SIGTERM, wait up to `graceMs` for the process to go, then SIGKILL (and wait up to 2 s more). A stopped
 * (SIGSTOP) process gets SIGCONT so it can act on SIGTERM. Returns how it ended.
 */
export async function terminate(
  pid: number,
  graceMs = 5000,
): Promise<'not-running' | 'terminated' | 'killed' | 'stuck'> {
  if (!isAlive(pid)) return 'not-running';
  signal(pid, 'SIGTERM');
  signal(pid, 'SIGCONT');
  const deadline = Date.now() + graceMs;
  for (let i = 0; i < 10_000 && Date.now() < deadline; i++) {
    if (!isAlive(pid)) return 'terminated';
    await abortableSleep(25);
  }
  signal(pid, 'SIGKILL');
  const killDeadline = Date.now() + 2000;
  for (let i = 0; i < 10_000 && Date.now() < killDeadline; i++) {
    if (!isAlive(pid)) return 'killed';
    await abortableSleep(25);
  }
  return 'stuck';
}

/** Synchronous last resort (second Ctrl-C, process exit): SIGKILL, no waiting. */
export function killNow(pid: number): void {
  if (isAlive(pid)) signal(pid, 'SIGKILL');
}

export function sendSignal(pid: number, sig: NodeJS.Signals): void {
  if (!signal(pid, sig))
    throw new LabError('LAB_ERR_CHILD_EXIT', `cannot send ${sig} to pid ${pid}: no such process`, { pid });
}

export function tail(path: string, lines = 12): string {
  try {
    const text = readFileSync(path, 'utf8');
    return text.trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

function childDiedError(c: SpawnedChild, waitingFor: string): LabError {
  const how = c.exited
    ? c.exited.signal
      ? `signal ${c.exited.signal}`
      : `code ${c.exited.code}`
    : 'unknown status';
  const errTail = tail(c.stderrPath) || tail(c.stdoutPath);
  return new LabError(
    'LAB_ERR_CHILD_EXIT',
    `${c.name} (pid ${c.pid}) exited (${how}) while waiting for ${waitingFor}${errTail ? `; last output:\n${errTail}` : ''}`,
    { component: c.name, pid: c.pid },
  );
}

function childGone(c: SpawnedChild): boolean {
  return c.exited !== null || !isAlive(c.pid);
}

/**
 * Waits for the contract's start line (`{"msg":"listening",...}`) on the child's stdout and returns it.
 * Bounded by `timeoutMs`; fails early, with the child's last output, if the child exits.
 */
export async function waitForListening(
  c: SpawnedChild,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  // Only what this process wrote: an earlier process of the same name (restart) appended to the same file.
  let offset = c.stdoutOffset;
  let buffered = '';
  for (let i = 0; i < 100_000 && Date.now() < deadline; i++) {
    let bytes: Buffer = Buffer.alloc(0);
    try {
      bytes = readFileSync(c.stdoutPath);
    } catch {}
    if (bytes.length > offset) {
      // Complete lines only (a multi-byte character may straddle the end of what was written so far).
      const end = bytes.lastIndexOf(0x0a) + 1;
      if (end <= offset) {
        if (childGone(c)) throw childDiedError(c, 'its "listening" line');
        await abortableSleep(50, signal);
        continue;
      }
      buffered += bytes.subarray(offset, end).toString('utf8');
      offset = end;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.includes('"listening"')) continue;
        try {
          const obj = JSON.parse(line) as Record<string, unknown>;
          if (obj.msg === 'listening') return obj;
        } catch {}
      }
    }
    if (childGone(c)) throw childDiedError(c, 'its "listening" line');
    await abortableSleep(50, signal);
  }
  throw new LabError(
    'LAB_ERR_TIMEOUT',
    `timed out after ${timeoutMs} ms waiting for ${c.name} (pid ${c.pid}) to print its "listening" line${tail(c.stderrPath) ? `; stderr:\n${tail(c.stderrPath)}` : ''}`,
    { component: c.name, awaited: 'listening line' },
  );
}

/** Polls `url` until it answers 2xx (bounded), failing early if the child exits. */
export async function waitForHttp(
  c: SpawnedChild,
  url: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  for (let i = 0; i < 100_000 && Date.now() < deadline; i++) {
    if (childGone(c)) throw childDiedError(c, `${url} to answer`);
    const r = await httpOk(url, 2000);
    if (r.ok) return;
    last = r.detail;
    await abortableSleep(100, signal);
  }
  throw new LabError(
    'LAB_ERR_TIMEOUT',
    `timed out after ${timeoutMs} ms waiting for ${c.name} (pid ${c.pid}) at ${url} (last: ${last})${tail(c.stderrPath) ? `; stderr:\n${tail(c.stderrPath)}` : ''}`,
    { component: c.name, awaited: url },
  );
}

/** A free TCP port on 127.0.0.1 (bind port 0, read, close). Racy by nature: callers retry on EADDRINUSE. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Is `name` an executable on PATH (or an absolute path)? Returns its path or null. */
export function which(name: string, env: NodeJS.ProcessEnv = process.env): string | null {
  const r = spawnSync('sh', ['-c', 'command -v "$1"', 'sh', name], { encoding: 'utf8', timeout: 3000, env });
  const p = r.stdout?.trim();
  return r.status === 0 && p ? p : null;
}

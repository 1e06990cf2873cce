import { readFileSync } from 'node:fs';
import { LabError } from '@pushpull/common';
import { paths } from '../../core/paths.ts';
import { abortableSleep } from '../../core/time.ts';
import type { AuxAddresses, AuxProcess } from '../types.ts';
import { isAlive, type SpawnedChild, sendSignal, terminate, waitForListening } from './children.ts';
import { addrToUrl, type ProcessStack, START_TIMEOUT_MS, spawnIn, writeLabJson } from './state.ts';

// Auxiliary producer-binary processes (a short-lived `job`, a one-pod `serve`), torn down with the stack.

export async function runAux(
  s: ProcessStack,
  name: string,
  args: (a: AuxAddresses) => string[],
): Promise<AuxProcess> {
  if (!s.endpoints || !s.collectorStatsd) throw new LabError('LAB_ERR_CONFIG', 'runAux() before up()');
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name))
    throw new LabError('LAB_ERR_CONFIG', `runAux: bad name "${name}"`);
  const argv = args({
    http: '127.0.0.1:0',
    sdDir: s.sdDir,
    pushgatewayUrl: s.endpoints.pushgatewayUrl,
    statsdUdp: s.collectorStatsd.udp,
    ...(s.collectorStatsd.otlp ? { otlpHttp: s.collectorStatsd.otlp } : {}),
  });
  const child = spawnIn(s, `aux-${name}`, process.execPath, [paths(s.root).producerMain, ...argv]);
  s.aux.push(child);
  writeLabJson(s);
  let baseUrl: string | null = null;
  if (argv[0] !== 'job') {
    const line = await waitForListening(child, START_TIMEOUT_MS, s.opts?.signal);
    baseUrl = typeof line.http === 'string' ? addrToUrl(line.http) : null;
  }
  return {
    name,
    baseUrl,
    stop: async () => {
      await terminate(child.pid);
    },
    kill: () => sendSignal(child.pid, 'SIGKILL'),
    wait: (timeoutMs: number) => waitForExit(child, name, timeoutMs, s.opts?.signal),
  };
}

/** What this child wrote on stdout (from its offset: a component started again appends to the same file). */
function stdoutOf(child: SpawnedChild): string {
  try {
    return readFileSync(child.stdoutPath).subarray(child.stdoutOffset).toString('utf8');
  } catch {
    return '';
  }
}

async function waitForExit(
  child: SpawnedChild,
  name: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<{ exitCode: number | null; stdout: string }> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < 100_000 && Date.now() < deadline && child.exited === null && isAlive(child.pid); i++)
    await abortableSleep(50, signal);
  if (child.exited === null && isAlive(child.pid))
    throw new LabError(
      'LAB_ERR_TIMEOUT',
      `auxiliary process ${name} (pid ${child.pid}) still running after ${timeoutMs} ms`,
      {
        awaited: name,
      },
    );
  // The 'exit' event may trail the process's disappearance by a tick.
  for (let i = 0; i < 20 && child.exited === null && child.proc; i++) await abortableSleep(10);
  return { exitCode: child.exited?.code ?? null, stdout: stdoutOf(child) };
}

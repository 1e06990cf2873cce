import { LabError } from '@pushpull/common';
import type Docker from 'dockerode';
import { httpText } from '../../core/http.ts';
import { sleep } from '../engine.ts';
import type { AuxAddresses, AuxProcess } from '../types.ts';
import { waitHttp } from './deploy.ts';
import { taskAddress } from './engine.ts';
import { serviceLogBytes } from './preflight.ts';
import { composeImage, serviceSpec } from './specs.ts';
import type { SwarmStack } from './state.ts';
import { type ApiTask, newest, TERMINAL, tasksOf, waitRunning } from './tasks.ts';

// Auxiliary producer-binary tasks inside the stack (a short-lived `job`, a one-pod `serve`): each a
// one-replica service with restart policy none on the run's overlay, labelled with the run id, so `down`,
// Ctrl-C and the reaper remove it with the rest of the run. A `serve` carries the `producer` alias, so the
// sd service discovers its pods as it does the fleet's; the lab reaches it through the proxy.

/** The addresses an auxiliary task is given: the compose names, valid on the run's overlay. */
export const AUX_ADDRESSES: AuxAddresses = {
  http: '0.0.0.0:9100',
  // No shared discovery directory on swarm (the sd service asks each task): a path inside the task.
  sdDir: '/tmp/sd',
  pushgatewayUrl: 'http://pushgateway:9091',
  statsdUdp: 'collector:8125',
  otlpHttp: 'collector:4318',
};

/** A swarm service name part: a DNS label (lower case, digits, dashes), kept short for the 63-char limit. */
const AUX_NAME = /^[a-z0-9][a-z0-9-]{0,23}$/;

/** The aux service spec. Pure. */
export function auxSpec(
  s: Pick<SwarmStack, 'runId' | 'networkId' | 'compose' | 'observerConstraints'>,
  name: string,
  argv: string[],
): Docker.CreateServiceOptions {
  if (!AUX_NAME.test(name))
    throw new LabError(
      'LAB_ERR_CONFIG',
      `runAux: "${name}" is not a valid name on swarm (lower case letters, digits and dashes, at most 24)`,
      { name },
    );
  const serve = argv[0] !== 'job';
  return serviceSpec(
    {
      runId: s.runId,
      networkId: s.networkId,
      compose: s.compose,
      observerConstraints: s.observerConstraints,
    },
    {
      component: 'aux',
      // A served pod is a producer to discovery; a job is reached by nothing (it pushes).
      alias: serve ? 'producer' : `aux-${name}`,
      name: `aux-${name}`,
      image: composeImage(s.compose, 'producer').image,
      args: argv,
      // Beside the observers (the node the lab reaches faults and logs on, on a one-node swarm: all of them).
      constraints: s.observerConstraints,
      extraLabels: { 'pushpull.aux': name },
    },
  );
}

/**
 * How a job task ended, from its task (GET /tasks): null while it runs. `complete` and `failed` carry the
 * container's exit code; a task the node refused (`rejected`: no such image) has none.
 */
export function jobExit(task: ApiTask | undefined): { exitCode: number | null; why: string } | null {
  const state = task?.Status?.State;
  if (!task || !state || !TERMINAL.has(state)) return null;
  const code = task.Status?.ContainerStatus?.ExitCode;
  const started = state === 'complete' || state === 'failed';
  return {
    exitCode: started && typeof code === 'number' ? code : null,
    why: `${state}${task.Status?.Err ? `: ${task.Status.Err}` : ''}`,
  };
}

/** Docker multiplexes non-TTY logs in frames: [stream, 0, 0, 0, size(4, BE)] payload; stdout is stream 1. */
export function stdoutOf(raw: Buffer): string {
  const parts: Buffer[] = [];
  let i = 0;
  while (i + 8 <= raw.length && raw[i]! <= 2 && raw.readUInt16BE(i + 1) === 0 && raw[i + 3] === 0) {
    const size = raw.readUInt32BE(i + 4);
    if (raw[i] === 1) parts.push(raw.subarray(i + 8, i + 8 + size));
    i += 8 + size;
  }
  // Not framed (a TTY, or an engine that sends plain text): the bytes are the output.
  return i === 0 ? raw.toString('utf8') : Buffer.concat(parts).toString('utf8');
}

export async function runAux(
  s: SwarmStack,
  name: string,
  args: (a: AuxAddresses) => string[],
): Promise<AuxProcess> {
  if (!s.endpoints) throw new LabError('LAB_ERR_CONFIG', 'runAux() before up()');
  const argv = args(AUX_ADDRESSES);
  const svc = await s.docker.createService(auxSpec(s, name, argv));
  const task = await waitRunning(s.docker, svc.id, `auxiliary ${name}`, 120_000).catch(async (e) => {
    // A job may have ended before we looked: its exit code is wait()'s to report, not a failed start.
    const t = newest(await tasksOf(s.docker, [svc.id]), svc.id);
    if (argv[0] === 'job' && t && typeof jobExit(t)?.exitCode === 'number') return t;
    throw e;
  });
  let baseUrl: string | null = null;
  if (argv[0] !== 'job') {
    const ip = taskAddress(task, s.networkId);
    if (!ip)
      throw new LabError('LAB_ERR_SWARM', `auxiliary ${name}: its task has no address on ${s.networkName}`);
    baseUrl = `${s.proxyUrl}/task/${ip}:9100`;
    await waitHttp(`${baseUrl}/healthz`, `${name} /healthz`);
  }
  return {
    name,
    baseUrl,
    stop: () => stopAux(s, svc.id, name),
    wait: (timeoutMs) => waitForExit(s.docker, svc.id, name, timeoutMs),
  };
}

/**
 * Scales the service to 0 (swarm sends SIGTERM, then SIGKILL after its grace period) and waits for the task
 * to end; the service stays until the stack goes, so its logs can still be read.
 */
async function stopAux(s: SwarmStack, id: string, name: string): Promise<void> {
  const svc = s.docker.getService(id);
  const info = (await svc.inspect().catch(() => null)) as {
    Version: { Index: number };
    Spec: Record<string, unknown>;
  } | null;
  if (!info) return;
  await svc
    .update({ version: info.Version.Index, ...info.Spec, Mode: { Replicated: { Replicas: 0 } } })
    .catch(() => undefined);
  // Until its task ended (or is gone: a scaled-down task may be removed outright), bounded.
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; await sleep(250)) {
    const t = newest(await tasksOf(s.docker, [id]).catch(() => []), id);
    if (!t || jobExit(t)) break;
  }
  // A stopped serve's pods stop being targets at once (the sd service would keep them as down targets).
  await httpText(`${s.proxyUrl}/sd/forget?container=${encodeURIComponent(name)}`, {
    method: 'POST',
    timeoutMs: 3000,
  }).catch(() => undefined);
}

async function waitForExit(
  docker: Docker,
  id: string,
  name: string,
  timeoutMs: number,
): Promise<{ exitCode: number | null; stdout: string }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const end = jobExit(newest(await tasksOf(docker, [id]), id));
    if (end) {
      return { exitCode: end.exitCode, stdout: stdoutOf(await serviceLogBytes(docker, id)) };
    }
    if (Date.now() > deadline)
      throw new LabError('LAB_ERR_TIMEOUT', `auxiliary ${name}: still running after ${timeoutMs} ms`);
    await sleep(250);
  }
}

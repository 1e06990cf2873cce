import { join } from 'node:path';
import { LabError } from '@pushpull/common';
import type Docker from 'dockerode';
import { waitHttp, withTimeout } from '../engine.ts';
import type { AuxAddresses, AuxProcess } from '../types.ts';
import { loopbackUrl, startService } from './containers.ts';
import type { DockerStack } from './state.ts';

// Auxiliary producer-binary containers on the lab network (a short-lived `job`, a one-pod `serve`),
// removed with the stack (they carry the run's label).

/** One extra producer-binary container on the lab network (a short-lived job, a one-pod serve). */
export async function runAux(
  s: DockerStack,
  name: string,
  args: (a: AuxAddresses) => string[],
): Promise<AuxProcess> {
  if (!s.endpoints) throw new LabError('LAB_ERR_CONFIG', 'runAux() before up()');
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name))
    throw new LabError('LAB_ERR_CONFIG', `runAux: bad name "${name}"`);
  const argv = args({
    http: '0.0.0.0:9100',
    sdDir: '/sd',
    pushgatewayUrl: 'http://pushgateway:9091',
    statsdUdp: 'collector:8125',
    otlpHttp: 'collector:4318',
  });
  const serve = argv[0] !== 'job';
  const container = await startService(s, 'producer', { Binds: [`${join(s.workDir, 'sd')}:/sd`] }, true, {
    cmd: argv,
    containerName: `pushpull-${s.runId}-aux-${name}`,
    labels: { 'pushpull.aux': name },
    ports: serve ? ['9100/tcp'] : [],
  });
  let baseUrl: string | null = null;
  if (serve) {
    baseUrl = await loopbackUrl(s, 'producer', '9100/tcp', container);
    await waitHttp(`${baseUrl}/healthz`, 60_000, `${name} /healthz`);
  }
  return {
    name,
    baseUrl,
    stop: async () => {
      await container.stop({ t: 5 }).catch(() => undefined);
    },
    // SIGKILL, no flush: fire and forget like a signal (the container is removed with the stack).
    kill: () => {
      container.kill({ signal: 'SIGKILL' }).catch(() => undefined);
    },
    wait: (timeoutMs: number) => waitForExit(container, name, timeoutMs),
  };
}

async function waitForExit(
  container: Docker.Container,
  name: string,
  timeoutMs: number,
): Promise<{ exitCode: number | null; stdout: string }> {
  const r = (await withTimeout(container.wait(), timeoutMs, `auxiliary container ${name}`)) as {
    StatusCode?: number;
  };
  const raw = (await container.logs({ stdout: true, stderr: false })) as Buffer;
  return { exitCode: r.StatusCode ?? null, stdout: demuxStdout(raw) };
}

/** Docker multiplexes a non-TTY container's logs in frames: [stream, 0, 0, 0, size(4, BE)] payload. */
export function demuxStdout(buf: Buffer): string {
  const parts: Buffer[] = [];
  let i = 0;
  while (i + 8 <= buf.length) {
    const size = buf.readUInt32BE(i + 4);
    if (buf[i] === 1) parts.push(buf.subarray(i + 8, i + 8 + size));
    i += 8 + size;
  }
  return Buffer.concat(parts).toString('utf8');
}

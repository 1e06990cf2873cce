import { LabError } from '@pushpull/common';
import type Docker from 'dockerode';
import type { ComponentResources } from '../../core/resources.ts';
import { sleep } from '../engine.ts';
import { componentOfService, dockerHostLimits } from '../resource-limits.ts';
import { composeService, containerPorts } from './compose.ts';
import { COMPONENT_LABEL, runLabels } from './labels.ts';
import type { DockerStack } from './state.ts';

// Creating a container from a compose service, and finding the loopback port the engine published for it.

export interface ServiceExtra {
  cmd?: string[];
  /** Set for producers and aux containers; base components are named after the run and tracked in `base`. */
  containerName?: string;
  labels?: Record<string, string>;
  ports?: string[];
  /** The budget for this container when it is one of several sharing its component's (the producers). */
  resources?: ComponentResources | null;
  /** Its names on the run's network (default: the service's; #29: an agent must not answer as `prometheus`). */
  aliases?: string[];
}

/** Creates and starts a container of compose service `name`, its ports published on 127.0.0.1. */
export async function startService(
  s: DockerStack,
  name: string,
  hostConfig: Docker.HostConfig,
  attachNetwork = true,
  extra: ServiceExtra = {},
): Promise<Docker.Container> {
  const svc = composeService(s.compose, name);
  const exposed = attachNetwork ? (extra.ports ?? containerPorts(svc.ports)) : [];
  const container = await s.docker.createContainer({
    name: extra.containerName ?? `pushpull-${s.runId}-${name}`,
    Image: svc.image,
    Cmd: extra.cmd ?? svc.command,
    Labels: { ...runLabels(s.runId), [COMPONENT_LABEL]: name, ...extra.labels },
    ExposedPorts: Object.fromEntries(exposed.map((p) => [p, {}])),
    HostConfig: {
      ...dockerHostLimits(extra.resources ?? budgetOf(s, name)),
      ...(attachNetwork ? { NetworkMode: s.networkName } : {}),
      PortBindings: Object.fromEntries(exposed.map((p) => [p, [{ HostIp: '127.0.0.1', HostPort: '' }]])),
      ...hostConfig,
    },
    ...(attachNetwork
      ? { NetworkingConfig: { EndpointsConfig: { [s.networkName]: { Aliases: extra.aliases ?? [name] } } } }
      : {}),
  });
  if (!extra.containerName) s.base.set(name, container);
  await container.start();
  return container;
}

/** The plan's budget for a compose service (null = none, or not a budgeted component). */
function budgetOf(s: DockerStack, service: string): ComponentResources | null {
  const c = componentOfService(service);
  return c && s.resources ? s.resources[c] : null;
}

/** The host port the engine published for `port` ("9090/tcp"); a clear error when the container exited. */
export async function hostPort(
  s: DockerStack,
  service: string,
  port: string,
  container?: Docker.Container,
): Promise<number> {
  const c = container ?? s.base.get(service);
  if (!c) throw new LabError('LAB_ERR_CONFIG', `service ${service} is not running`);
  for (let i = 0; i < 50; i++) {
    const info = await c.inspect();
    const hp = info.NetworkSettings.Ports[port]?.[0]?.HostPort;
    if (hp) return Number(hp);
    if (!info.State.Running) {
      const logs = await c.logs({ stdout: true, stderr: true, tail: 20 }).catch(() => Buffer.from(''));
      throw new LabError(
        'LAB_ERR_CHILD_EXIT',
        `container ${service} exited (${info.State.ExitCode}): ${logs.toString()}`,
      );
    }
    await sleep(100);
  }
  throw new LabError('LAB_ERR_TIMEOUT', `no published host port for ${service} ${port}`);
}

/** Loopback base URL of a container's published port. */
export async function loopbackUrl(
  s: DockerStack,
  service: string,
  port: string,
  container?: Docker.Container,
): Promise<string> {
  return `http://127.0.0.1:${await hostPort(s, service, port, container)}`;
}

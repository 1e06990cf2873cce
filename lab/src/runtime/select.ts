import { LabError } from '@pushpull/common';
import { RUNTIME_CHOICES } from '../core/record.ts';
import { APT_PACKAGES, processRuntimeFactory } from './process/runtime.ts';
import type { RuntimeFactory, RuntimeKind } from './types.ts';

// Runtime selection, a strategy chain: a reachable Docker engine with the stack's images → docker;
// else prometheus + prometheus-pushgateway on PATH → process; else LAB_ERR_NO_RUNTIME naming what to install.

export interface RuntimeCandidate {
  kind: RuntimeKind;
  /** Never part of the `auto` chain (swarm). */
  explicitOnly?: boolean;
  /** Loads the runtime module (docker.ts is imported lazily: its dependencies load only when used). */
  load(): Promise<RuntimeFactory>;
}

export interface Selection {
  factory: RuntimeFactory;
  /** Why each candidate was taken or skipped, in chain order (shown by `status` and in run.json). */
  reasons: string[];
}

export function defaultCandidates(repoRoot: string): RuntimeCandidate[] {
  return [
    {
      kind: 'docker',
      async load() {
        let mod: { dockerRuntimeFactory?: (root: string) => RuntimeFactory };
        try {
          mod = await import('./docker/runtime.ts');
        } catch (e) {
          throw new LabError(
            'LAB_ERR_DOCKER_UNREACHABLE',
            `the docker runtime (lab/src/runtime/docker/runtime.ts) could not be loaded: ${(e as Error).message}`,
          );
        }
        if (typeof mod.dockerRuntimeFactory !== 'function')
          throw new LabError(
            'LAB_ERR_DOCKER_UNREACHABLE',
            'lab/src/runtime/docker/runtime.ts does not export dockerRuntimeFactory(repoRoot): RuntimeFactory',
          );
        return mod.dockerRuntimeFactory(repoRoot);
      },
    },
    { kind: 'process', load: async () => processRuntimeFactory(repoRoot) },
    // Staging only: `auto` never picks it (it deploys onto a shared swarm); `--runtime swarm` asks for it.
    {
      kind: 'swarm',
      explicitOnly: true,
      load: async () => (await import('./swarm/runtime.ts')).swarmRuntimeFactory(repoRoot),
    },
  ];
}

/** `swarm-plan`: the swarm's nodes and the placement of a fleet (loaded lazily, like the runtime). */
export async function swarmPlanText(
  root: string,
  pods: number,
  podsPerProducer: number,
  capacity?: { file: string; data: unknown },
): Promise<string> {
  return (await import('./swarm/plan.ts')).planText(root, pods, podsPerProducer, capacity);
}

const INSTALL_HINT = `install the process runtime's binaries with \`sudo bash scripts/setup.sh\` (or \`sudo apt-get install ${APT_PACKAGES.join(' ')}\`), or start Docker and build the images with \`bash scripts/airgap-images.sh\``;

export async function selectRuntime(
  requested: RuntimeKind | 'auto',
  candidates: readonly RuntimeCandidate[],
): Promise<Selection> {
  const reasons: string[] = [];
  const chain =
    requested === 'auto'
      ? candidates.filter((c) => !c.explicitOnly)
      : candidates.filter((c) => c.kind === requested);
  if (chain.length === 0)
    throw new LabError(
      'LAB_ERR_FLAG_VALUE',
      `--runtime: "${requested}" is not one of ${RUNTIME_CHOICES.join(', ')}`,
    );
  let lastError: LabError | null = null;
  for (const c of chain) {
    let factory: RuntimeFactory;
    try {
      factory = await c.load();
    } catch (e) {
      reasons.push(`${c.kind}: ${(e as Error).message}`);
      lastError = e instanceof LabError ? e : new LabError('LAB_ERR_NO_RUNTIME', (e as Error).message);
      continue;
    }
    const a = await factory.available().catch((e: Error) => ({ ok: false, reason: e.message }));
    reasons.push(`${c.kind}: ${a.ok ? 'selected' : 'skipped'} — ${a.reason}`);
    if (a.ok) return { factory, reasons };
    const code =
      c.kind === 'swarm'
        ? /image/i.test(a.reason)
          ? 'LAB_ERR_IMAGE_MISSING'
          : /swarm/i.test(a.reason)
            ? 'LAB_ERR_SWARM'
            : 'LAB_ERR_DOCKER_UNREACHABLE'
        : c.kind === 'docker'
          ? /image/i.test(a.reason)
            ? 'LAB_ERR_IMAGE_MISSING'
            : 'LAB_ERR_DOCKER_UNREACHABLE'
          : 'LAB_ERR_MISSING_BINARY';
    lastError = new LabError(code, `${c.kind} runtime unavailable: ${a.reason}`);
  }
  if (requested !== 'auto' && lastError) throw lastError;
  throw new LabError('LAB_ERR_NO_RUNTIME', `no runtime available (${reasons.join('; ')}): ${INSTALL_HINT}`, {
    reasons,
  });
}

/** How a command reaches the runtimes; tests inject a fake selection. */
export type SelectFn = (requested: RuntimeKind | 'auto', root: string) => Promise<Selection>;

export const defaultSelect: SelectFn = (requested, root) => selectRuntime(requested, defaultCandidates(root));

/** The factory of a known kind (re-attaching to a stack recorded by `up`). */
export async function factoryFor(kind: RuntimeKind, root: string): Promise<RuntimeFactory> {
  const c = defaultCandidates(root).find((x) => x.kind === kind);
  if (!c) throw new LabError('LAB_ERR_CONFIG', `no runtime of kind "${kind}"`);
  return c.load();
}

/**
 * Leftovers of crashed runs on the runtimes that need no engine to look (today: the process runtime's
 * temp dirs and children). Docker leftovers are reaped when the docker runtime is selected for a run.
 */
export async function reapLocalLeftovers(keepRunIds: string[], root: string): Promise<string[]> {
  return processRuntimeFactory(root).reap(keepRunIds);
}

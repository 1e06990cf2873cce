import { LabError } from '@pushpull/common';
import type { NodeNeeds } from './placement.ts';

// `swarm-plan --pods N --capacity capacity.json`: how many cores each side of the rehearsal needs for N
// pods, from what `lab:capacity` measured — pods per core per path (`paths.<path>.podsPerCore` where the
// capacity record has it; else the largest fleet the path held over the cores its pipeline had) — set
// against the cores the plan's nodes have. Pure: the parsed capacity.json in, lines out.

/** The fields of capacity.json this reads (any other shape of the file is ignored, not trusted). */
interface CapacityLike {
  finishedAt?: unknown;
  config?: { resources?: Record<string, { cpus?: unknown } | undefined> };
  paths?: Record<string, { podsPerCore?: unknown; maxHeld?: unknown } | undefined>;
}

export interface PodsPerCore {
  /** Pods one core of the component holds (null: not measured). */
  value: number | null;
  /** How the value was found, for the reader. */
  basis: string;
}

const SIDES = [
  { path: 'pull', component: 'prometheus' },
  { path: 'push', component: 'collector' },
] as const;

const num = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) && x > 0 ? x : null);

/** Pods per core of one path's pipeline (pull: Prometheus, push: the collector). */
export function podsPerCore(cap: CapacityLike, path: string, component: string): PodsPerCore {
  const p = cap.paths?.[path];
  // capacity@1 with --scaling: { receiver, value, text, … } (the value at the largest budget measured).
  const ppc = p?.podsPerCore as { value?: unknown; receiver?: unknown } | number | undefined;
  const direct = num(typeof ppc === 'object' && ppc !== null ? ppc.value : ppc);
  if (direct !== null) {
    const of = typeof ppc === 'object' && typeof ppc?.receiver === 'string' ? ` (${ppc.receiver})` : '';
    return { value: direct, basis: `paths.${path}.podsPerCore measured${of}` };
  }
  const held = num(p?.maxHeld);
  const cpus = num(cap.config?.resources?.[component]?.cpus);
  if (held !== null && cpus !== null)
    return { value: held / cpus, basis: `${held} pods held on ${component}'s ${cpus}-core budget` };
  return {
    value: null,
    basis: held === null ? `no ${path} result held` : `${component} had no CPU budget`,
  };
}

/** The generator: the most pods any path held over the producers' CPU budget (a lower bound). */
export function generatorPodsPerCore(cap: CapacityLike): PodsPerCore {
  const held = Math.max(0, ...SIDES.map((s) => num(cap.paths?.[s.path]?.maxHeld) ?? 0));
  const cpus = num(cap.config?.resources?.producers?.cpus);
  if (held > 0 && cpus !== null)
    return {
      value: held / cpus,
      basis: `${held} pods held on the producers' ${cpus}-core budget (at least)`,
    };
  return { value: null, basis: 'no held trial with a producers CPU budget' };
}

/** Checks the file is a capacity record at all (LAB_ERR_CONFIG naming it otherwise). */
export function asCapacity(raw: unknown, file: string): CapacityLike {
  const o = raw as CapacityLike & { schema?: unknown };
  if (typeof o !== 'object' || o === null || !String(o.schema ?? '').startsWith('pushpull-lab/capacity@'))
    throw new LabError(
      'LAB_ERR_CONFIG',
      `--capacity ${file}: not a capacity record (schema "${String(o?.schema)}"; expected pushpull-lab/capacity@…)`,
      { value: file },
    );
  return o;
}

const c1 = (x: number) => Math.ceil(x * 10) / 10;

/** The sizing lines for `pods` pods against the plan's nodes. */
export function sizingLines(
  cap: CapacityLike,
  file: string,
  pods: number,
  needs: readonly NodeNeeds[],
): string[] {
  const lines = [`sizing from ${file} (measured ${String(cap.finishedAt ?? 'at an unknown date')}):`];
  let observerCores = 0;
  let known = true;
  for (const s of SIDES) {
    const ppc = podsPerCore(cap, s.path, s.component);
    if (ppc.value === null) known = false;
    else observerCores += pods / ppc.value;
    lines.push(
      `  ${s.path}: ${ppc.value === null ? 'not measured' : `${c1(ppc.value)} pods per core`} (${ppc.basis})` +
        (ppc.value === null ? '' : ` → ${s.component} needs ${c1(pods / ppc.value)} cores for ${pods} pods`),
    );
  }
  const gen = generatorPodsPerCore(cap);
  lines.push(
    `  producers: ${gen.value === null ? 'not measured' : `${c1(gen.value)} pods per core`} (${gen.basis})` +
      (gen.value === null ? '' : ` → ${c1(pods / gen.value)} cores for ${pods} pods`),
  );
  const has = (f: (n: NodeNeeds) => boolean) => needs.filter(f).reduce((a, n) => a + n.cores, 0);
  const obsHave = has((n) => n.role.startsWith('observer'));
  const prodHave = has((n) => n.role.includes('producers'));
  if (known)
    lines.push(
      verdict(
        'observer node(s)',
        observerCores,
        obsHave,
        needs.filter((n) => n.role !== 'producers'),
      ),
    );
  if (gen.value !== null)
    lines.push(
      verdict(
        'producer node(s)',
        pods / gen.value,
        prodHave,
        needs.filter((n) => n.role.includes('producers')),
      ),
    );
  return lines;
}

function verdict(what: string, need: number, have: number, nodes: readonly NodeNeeds[]): string {
  const largest = Math.max(0, ...nodes.map((n) => n.cores));
  const more = largest > 0 ? Math.ceil(need / largest) : null;
  return need <= have
    ? `  ${what}: need ${c1(need)} cores, have ${have}: enough`
    : `  ${what}: need ${c1(need)} cores, have ${have}: ! short by ${c1(need - have)}` +
        (more === null ? '' : ` (${more} node(s) of ${largest} cores)`);
}

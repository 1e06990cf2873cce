import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { LabError } from '@pushpull/common';
import type { NodesPlan } from './plan.ts';

// The nodes state file: what `nodes up` made (or was about to make), written BEFORE each step so that
// `nodes down` after a crash or a `kill -9` still finds everything. Atomic (tmp + rename).

export interface NodesState {
  version: 1;
  savedAt: string;
  plan: NodesPlan;
  /** dockerd pid per worker index (known once started). */
  pids: Record<string, number>;
  /** Swarm node id per worker index (known once joined). */
  nodeIds: Record<string, string>;
  /** `up` ran (or was about to run) `docker swarm init` on the host: `down` leaves that swarm. */
  swarmInitiated: boolean;
  /** docker_gwbridge existed on the host before `up` initialised the swarm (else `down` removes it). */
  gwbridgeExisted?: boolean;
  /** The host node `up` labelled as the observer (label removed by `down` when the swarm stays). */
  observerLabelled: string | null;
}

export function newState(plan: NodesPlan): NodesState {
  return {
    version: 1,
    savedAt: new Date().toISOString(),
    plan,
    pids: {},
    nodeIds: {},
    swarmInitiated: false,
    observerLabelled: null,
  };
}

export function writeNodesState(path: string, state: NodesState): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, `${JSON.stringify({ ...state, savedAt: new Date().toISOString() }, null, 2)}\n`);
  renameSync(tmp, path);
}

/** The recorded state, or null when no file exists; LAB_ERR_CONFIG (with the path) when it is unreadable. */
export function readNodesState(path: string): NodesState | null {
  if (!existsSync(path)) return null;
  let parsed: NodesState;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8')) as NodesState;
  } catch (e) {
    throw new LabError('LAB_ERR_CONFIG', `${path} is not valid JSON (${(e as Error).message})`, {
      value: path,
    });
  }
  const ok =
    parsed?.version === 1 &&
    typeof parsed.plan?.bridge === 'string' &&
    Array.isArray(parsed.plan.workers) &&
    typeof parsed.pids === 'object' &&
    typeof parsed.nodeIds === 'object';
  if (!ok)
    throw new LabError('LAB_ERR_CONFIG', `${path}: not a nodes state file (version 1)`, { value: path });
  return parsed;
}

export function removeNodesState(path: string): void {
  rmSync(path, { force: true });
  rmSync(`${path}.tmp`, { force: true });
}

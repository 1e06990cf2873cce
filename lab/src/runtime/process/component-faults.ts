import { LabError } from '@pushpull/common';
import type { ComponentFaultKind } from '../types.ts';
import { sendSignal } from './children.ts';
import type { ProcessStack } from './state.ts';

// #28: faults on a base component (the drill's `2 replicas` column: pull's second Prometheus replica) — the
// same signals as a producer's: SIGKILL, SIGSTOP, SIGCONT, by the pid this runtime spawned.

const SIGNALS: Record<ComponentFaultKind, NodeJS.Signals> = {
  kill: 'SIGKILL',
  pause: 'SIGSTOP',
  resume: 'SIGCONT',
};

export function faultComponent(s: ProcessStack, kind: ComponentFaultKind, component: string): void {
  const child = s.base.get(component);
  if (!child)
    throw new LabError(
      'LAB_ERR_SCENARIO',
      `no component named ${component} in this stack (running: ${[...s.base.keys()].join(', ') || 'none'})`,
      { component },
    );
  sendSignal(child.pid, SIGNALS[kind]);
}

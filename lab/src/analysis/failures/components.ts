import type { PathName, ProbeSample } from '../../core/record.ts';
import type { Detection } from './detection.ts';

// Failure detectors for whole components: one that stops answering, one that dies.

/** First sample at which a component still running no longer answered its probe, after it had before. */
function firstUnresponsive(samples: readonly ProbeSample[], probe: string): ProbeSample | null {
  let answered = false;
  for (const s of samples) {
    if (s.failedProbes?.includes(probe)) {
      if (answered) return s;
    } else if (s.probeMs[probe] !== undefined) answered = true;
  }
  return null;
}

/** A store stopped answering the lab's probe query in time (overloaded): pull's, and push's own (#24). */
export function prometheusUnresponsive({ samples, add }: Detection): void {
  const gone = firstUnresponsive(samples, 'prometheus');
  if (gone)
    add(
      'pull',
      'prometheus-unresponsive',
      gone,
      "Prometheus stopped answering the lab's probe query in time (its HTTP API is overloaded)",
    );
  const push = firstUnresponsive(samples, 'prometheus-push');
  if (push)
    add(
      'push',
      'prometheus-unresponsive',
      push,
      "push's Prometheus (prometheus-push) stopped answering the lab's probe query in time (its HTTP API is overloaded)",
    );
}

/** The collector stopped answering GET /metrics in time (overloaded). */
export function collectorUnresponsive({ samples, add }: Detection): void {
  const gone = firstUnresponsive(samples, 'collector');
  if (gone)
    add('push', 'collector-unresponsive', gone, 'the collector stopped answering GET /metrics in time');
}

/** The paths a component's death fails: a producer carries both. */
function pathsOf(name: string): PathName[] {
  if (name === 'collector') return ['push'];
  if (name === 'prometheus') return ['pull'];
  if (name === 'prometheus-push') return ['push'];
  if (name.startsWith('agent-')) return ['push']; // #27: a host's collector agent
  if (/^prometheus-agent-\d+$/.test(name)) return ['pull']; // #29: a pull agent
  return name.startsWith('producer') ? ['pull', 'push'] : [];
}

/** A component process/container died (e.g. out of memory at a large fleet): the hardest failure. */
export function componentsDied({ samples, add }: Detection): void {
  const died = new Set<string>();
  for (const s of samples) {
    for (const name of s.dead ?? []) {
      if (died.has(name)) continue;
      died.add(name);
      for (const p of pathsOf(name))
        add(p, `died:${name}`, s, `${name} stopped running (process exited / container gone)`);
    }
  }
}

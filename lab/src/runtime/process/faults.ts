import { LabError } from '@pushpull/common';
import type { FaultKind, PartitionReach, ProducerMember } from '../types.ts';
import { sendSignal, terminate } from './children.ts';
import { startProducer } from './fleet.ts';
import { type ProcessStack, type ProducerProc, producerIndex, sortProducers } from './state.ts';

// Faults on a local producer process: signals (SIGKILL, SIGSTOP/SIGCONT) and a restart. A partition has no
// network namespace to cut here: it cuts the producer's relays (relays.ts) — its scrapes and its push path —
// which only a stack started with `partitionable` (and not persistent) has.

/** Why a producer without relays cannot be partitioned here (the fault's error and the drill's cells). */
const NO_RELAYS =
  "the process runtime cuts a producer's paths only through the lab's relays, which a stack started without partitionable (or a persistent `up` stack) does not have; use --runtime docker";

export async function injectFault(s: ProcessStack, kind: FaultKind, member: ProducerMember): Promise<void> {
  const p = s.producers.find((x) => x.member.name === member.name);
  if (!p) throw new LabError('LAB_ERR_SCENARIO', `no producer named ${member.name}`);
  switch (kind) {
    case 'kill':
      sendSignal(p.child.pid, 'SIGKILL');
      return;
    case 'pause':
      sendSignal(p.child.pid, 'SIGSTOP');
      return;
    case 'resume':
      sendSignal(p.child.pid, 'SIGCONT');
      return;
    case 'restart':
      await restartProducer(s, p);
      return;
    case 'partition':
    case 'heal':
      if (!p.relays)
        throw new LabError('LAB_ERR_FAULT_UNSUPPORTED', `fault "${kind}": ${NO_RELAYS}`, { kind });
      await (kind === 'partition' ? p.relays.cut() : p.relays.heal());
      return;
  }
}

/** Stops the producer and starts it again with the same name and pods, under the same member object. */
async function restartProducer(s: ProcessStack, p: ProducerProc): Promise<void> {
  await terminate(p.child.pid);
  await p.relays?.close();
  const opts = s.producerOptions;
  if (!opts) throw new LabError('LAB_ERR_SCENARIO', 'restart before scale()');
  const idx = s.producers.indexOf(p);
  s.producers.splice(idx, 1);
  const fresh = await startProducer(s, producerIndex(p), p.pods, opts, s.opts?.signal);
  // keep the member object identity stable for callers holding it
  Object.assign(p.member, fresh.member);
  fresh.member = p.member;
  sortProducers(s);
}

/** What a partition of this producer cuts: both paths through its relays, or nothing without them. */
export function partitionReach(s: ProcessStack, member: ProducerMember): PartitionReach {
  const p = s.producers.find((x) => x.member.name === member.name);
  if (!p) throw new LabError('LAB_ERR_SCENARIO', `no producer named ${member.name}`);
  if (!p.relays) return { paths: { scrape: NO_RELAYS, push: NO_RELAYS }, controlApiDuringCut: true };
  return { paths: { scrape: true, push: true }, controlApiDuringCut: true, relays: p.relays.counts() };
}

import { LabError } from '@pushpull/common';
import type { FaultKind, ProducerMember } from '../types.ts';
import { sendSignal, terminate } from './children.ts';
import { startProducer } from './fleet.ts';
import { type ProcessStack, type ProducerProc, producerIndex, sortProducers } from './state.ts';

// Faults on a local producer process: signals (SIGKILL, SIGSTOP/SIGCONT) and a restart. Partition and heal
// need a network namespace per producer, which only the docker runtime has — except for an OTLP producer,
// whose receiver the lab can make unreachable by cutting its loopback proxy (otlp-proxy.ts).

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
      if (p.otlpProxy) {
        await (kind === 'partition' ? p.otlpProxy.cut() : p.otlpProxy.heal());
        return;
      }
      throw new LabError(
        'LAB_ERR_SCENARIO',
        `fault "${kind}" needs network namespaces: on the process runtime only an OTLP producer of a stack started with partitionableOtlp (its receiver cut off through the lab's proxy) can be partitioned; use --runtime docker`,
        { kind },
      );
  }
}

/** Stops the producer and starts it again with the same name and pods, under the same member object. */
async function restartProducer(s: ProcessStack, p: ProducerProc): Promise<void> {
  await terminate(p.child.pid);
  await p.otlpProxy?.close();
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

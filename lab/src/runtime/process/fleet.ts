import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { LabError, podIdsOf, renderProducerArgs } from '@pushpull/common';
import { paths } from '../../core/paths.ts';
import { mapLimit, throwIfAborted } from '../../core/time.ts';
import { transportOf } from '../../core/transports.ts';
import { podsForProducer, producerArgs, producersToKeep } from '../producer-args.ts';
import type { ProducerOptions } from '../types.ts';
import { syncAgents } from './agents.ts';
import { terminate, waitForListening } from './children.ts';
import { startPushAgent, stopPushAgent } from './push-agents.ts';
import { ProducerRelays } from './relays.ts';
import {
  addrToUrl,
  type ProcessStack,
  type ProducerProc,
  START_TIMEOUT_MS,
  sortProducers,
  spawnIn,
  writeLabJson,
} from './state.ts';

// The producer fleet: `producer-<i>` processes, each serving its virtual pods on a port of its choosing and
// announcing them to Prometheus through a discovery file in the run's sd dir.

const PRODUCER_START_CONCURRENCY = 4;

/** Starts `producer-<index>` and waits until it listens and its discovery file exists. */
export async function startProducer(
  s: ProcessStack,
  index: number,
  pods: number,
  opts: ProducerOptions,
  signal?: AbortSignal,
): Promise<ProducerProc> {
  const name = `producer-${index}`;
  // #27: its pods push to the agent on its host, which forwards to the central collector.
  const agent = opts.pushTopology === 'agent' ? await startPushAgent(s, name, signal) : null;
  const direct = agent?.udp ?? collectorAddress(s, opts.transport);
  if (!direct) throw new LabError('LAB_ERR_CONFIG', `the collector has no ${opts.transport} listener`);
  // Every path goes through the producer's relays when the stack must be partitionable (relays.ts) — never
  // on a persistent stack, which outlives this process and with it any relay it could run.
  const relays =
    s.opts?.partitionable === true && !s.persistent
      ? await ProducerRelays.open(opts.transport, direct)
      : undefined;
  let child: ReturnType<typeof spawnIn>;
  try {
    child = spawnIn(s, name, process.execPath, [
      paths(s.root).producerMain,
      ...producerArgs(name, pods, opts, relays?.pushAddress ?? direct, s.sdDir),
      ...(relays ? renderProducerArgs({ advertise: relays.scrapeAddress }) : []),
    ]);
  } catch (e) {
    await relays?.close();
    throw e;
  }
  const proc: ProducerProc = {
    ...(relays ? { relays } : {}),
    member: {
      name,
      baseUrl: '',
      podIds: podIdsOf(name, pods),
      handle: String(child.pid),
      ...(agent ? { pushAgentUrl: agent.url } : {}),
    },
    child,
    pods,
  };
  s.producers.push(proc);
  writeLabJson(s);
  const line = await waitForListening(child, START_TIMEOUT_MS, signal);
  proc.member.baseUrl = addrToUrl(String(line.http));
  relays?.scrapeTarget(String(line.http));
  // The discovery file is written before "listening"; check it, so a scale is visible to Prometheus
  // within one sd refresh.
  if (!existsSync(join(s.sdDir, `${name}.json`)))
    throw new LabError('LAB_ERR_CHILD_EXIT', `${name} started but wrote no discovery file in ${s.sdDir}`);
  return proc;
}

/** The collector's listener for a transport; null when it has none (TCP falls back to UDP's port). */
function collectorAddress(s: ProcessStack, transport: ProducerOptions['transport']): string | undefined {
  return transportOf(transport).listener(s.collectorStatsd);
}

/** Grows or shrinks the fleet to `producers` processes. */
export async function scaleFleet(s: ProcessStack, producers: number, opts: ProducerOptions): Promise<void> {
  if (!s.endpoints) throw new LabError('LAB_ERR_CONFIG', 'scale() before up()');
  if (!Number.isInteger(producers) || producers < 0 || producers > 1000)
    throw new LabError('LAB_ERR_CONFIG', `scale(${producers}): producers must be an integer in [0, 1000]`);
  const signal = s.opts?.signal;
  s.producerOptions = opts;
  await shrinkTo(s, producers, opts);
  const from = s.producers.length;
  const indices = Array.from({ length: producers - from }, (_, k) => from + k);
  await mapLimit(indices, PRODUCER_START_CONCURRENCY, async (i) => {
    throwIfAborted(signal);
    await startProducer(s, i, podsForProducer(i, producers, opts), opts, signal);
  });
  sortProducers(s);
  writeLabJson(s);
  await syncAgents(s); // #29: one pull agent per producer host (--pull-topology agent)
}

/** Stops producers beyond `producers`, and those whose share of a total changes (producersToKeep). */
async function shrinkTo(s: ProcessStack, producers: number, opts: ProducerOptions): Promise<void> {
  const keep = producersToKeep(
    s.producers.map((p) => p.pods),
    producers,
    opts,
  );
  // Stop from the end (a clean SIGTERM exit removes the discovery file; remove it anyway, as docker does).
  while (s.producers.length > keep) {
    const p = s.producers.pop()!;
    await terminate(p.child.pid);
    await p.relays?.close();
    await stopPushAgent(s, p.member.name);
    rmSync(join(s.sdDir, `${p.member.name}.json`), { force: true });
  }
}

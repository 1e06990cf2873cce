import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { peerTargets, peerTargetsFile } from '../prometheus-peer.ts';

// #28: the pair's peer files on this runtime — each replica's `prometheus-peer` job lists the other replica's
// loopback address, written once both listen (their ports are chosen at start).

/** Creates the directory the peer files go in (before Prometheus starts: file_sd watches it). */
export function preparePeerDir(workDir: string): void {
  mkdirSync(dirname(peerTargetsFile(workDir, 'x')), { recursive: true });
}

/**
 * Each replica's peer file names the other: `replicas` in order (component, `HOST:PORT`, replica label).
 * Written atomically: file_sd must never read half a file.
 */
export function writePeerFiles(
  workDir: string,
  replicas: readonly { component: string; address: string; replica: string }[],
): void {
  replicas.forEach((me, i) => {
    const peer = replicas[(i + 1) % replicas.length]!;
    const file = peerTargetsFile(workDir, me.component);
    writeFileSync(`${file}.tmp`, peerTargets(peer.address, peer.replica));
    renameSync(`${file}.tmp`, file);
  });
}

import { join } from 'node:path';

// #28, the Prometheus pair's meta-monitoring: each replica scrapes the other as the job `prometheus-peer`
// (prometheus/rules/pair.yml pages when it stops answering). Neither replica's port is known before both
// listen, so the job reads its one target from a file the runtime writes once both are up (file_sd: picked up
// on change). Pure: the runtime writes the file.

/** The job name (a contract: the rule and the drill's pair modes select it). */
export const PEER_JOB = 'prometheus-peer';

/** The alert the survivor fires when its peer stops answering (prometheus/rules/pair.yml). */
export const PEER_ALERT = 'PrometheusPeerDown';

/** Where replica `component`'s peer target file lives in the run's work dir. */
export function peerTargetsFile(workDir: string, component: string): string {
  return join(workDir, 'peer', `${component}.json`);
}

/** The scrape job a replica gets: its peer from `file` (the global interval and timeout apply). */
export function peerJob(file: string): Record<string, unknown> {
  return { job_name: PEER_JOB, file_sd_configs: [{ files: [file], refresh_interval: '5s' }] };
}

/** The file_sd body naming the peer (`HOST:PORT`) and its `replica` label as `peer_replica`. */
export function peerTargets(address: string, replica: string): string {
  return `${JSON.stringify([{ targets: [address], labels: { peer_replica: replica } }])}\n`;
}

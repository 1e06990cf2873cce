import { httpText } from '../core/http.ts';
import type { Phase } from '../core/record.ts';
import { LAB_ANNOTATION_JOB } from './prom.ts';

// Lab → Pushgateway phase annotations for Grafana (docs/contracts.md "Lab → Pushgateway"), grouping key
// job="pushpull_lab". Pure rendering + one PUT.

export const CONTRACT_PHASES = ['warmup', 'burst', 'hold', 'decay', 'drain', 'done'] as const;
export type ContractPhase = (typeof CONTRACT_PHASES)[number];

/** The lab's own phases mapped onto the contract's phase names (null = before warm-up, not annotated). */
export function contractPhase(p: Phase): ContractPhase | null {
  switch (p) {
    case 'start':
      return null;
    case 'warmup':
      return 'warmup';
    case 'scheduled':
    case 'ramp':
      return 'burst';
    case 'peak':
      return 'hold';
    case 'decay':
    case 'after':
      return 'decay';
    case 'quiesce':
    case 'final-scrapes':
    case 'collect':
      return 'drain';
    case 'done':
      return 'done';
  }
}

const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

export interface PhaseAnnotation {
  runId: string;
  current: ContractPhase;
  /** Epoch ms each contract phase started (so far). */
  startedMs: Partial<Record<ContractPhase, number>>;
  expectedSources: number;
  burstAtMs: number | null;
  faults?: { kind: string; target: string; count: number }[];
}

export function renderPhaseMetrics(a: PhaseAnnotation): string {
  const run = `run_id="${esc(a.runId)}"`;
  const lines = ['# TYPE pushpull_lab_phase gauge'];
  for (const p of CONTRACT_PHASES)
    lines.push(`pushpull_lab_phase{${run},phase="${p}"} ${p === a.current ? 1 : 0}`);
  lines.push('# TYPE pushpull_lab_phase_started_timestamp_seconds gauge');
  for (const p of CONTRACT_PHASES) {
    const t = a.startedMs[p];
    if (t !== undefined)
      lines.push(
        `pushpull_lab_phase_started_timestamp_seconds{${run},phase="${p}"} ${(t / 1000).toFixed(3)}`,
      );
  }
  lines.push(
    '# TYPE pushpull_lab_expected_sources gauge',
    `pushpull_lab_expected_sources{${run}} ${a.expectedSources}`,
  );
  if (a.burstAtMs !== null)
    lines.push(
      '# TYPE pushpull_lab_burst_timestamp_seconds gauge',
      `pushpull_lab_burst_timestamp_seconds{${run}} ${(a.burstAtMs / 1000).toFixed(3)}`,
    );
  if (a.faults && a.faults.length > 0) {
    lines.push('# TYPE pushpull_lab_faults_total counter');
    for (const f of a.faults)
      lines.push(
        `pushpull_lab_faults_total{${run},kind="${esc(f.kind)}",target="${esc(f.target)}"} ${f.count}`,
      );
  }
  return `${lines.join('\n')}\n`;
}

/** PUT replaces the whole group (so phases switched off are 0, not stale). */
export async function pushPhaseMetrics(
  pushgatewayUrl: string,
  a: PhaseAnnotation,
  signal?: AbortSignal,
): Promise<void> {
  await httpText(`${pushgatewayUrl}/metrics/job/${LAB_ANNOTATION_JOB}`, {
    method: 'PUT',
    text: renderPhaseMetrics(a),
    timeoutMs: 3000,
    signal,
  });
}

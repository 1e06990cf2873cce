import { flagSpecs, inputFromFlags, resolveConfig } from '@pushpull/collector';
import { LabError, parseArgs } from '@pushpull/common';
import {
  collectorConfigMismatches,
  prometheusConfigMismatches,
  selfCheckText,
} from '../../analysis/self-check.ts';
import { httpJson } from '../../core/http.ts';
import type { SelfCheckFinding } from '../../core/record.ts';
import type { RunContext } from '../context.ts';

// The record checks itself, at the start (#20): right after the stack is up, the lab reads back what each
// component has in force — the collector's resolved configuration (GET /debug/config) and Prometheus' loaded
// configuration (/api/v1/status/config) — and compares it with what it asked for. A mismatch means a limit
// the record would claim is not the one that ran: the run stops there (LAB_ERR_SELF_CHECK, exit 1) with its
// record saying what differed, instead of producing a verdict about a race one path never ran.

/** What the collector's flags resolve to when nothing else (env, defaults of another build) interferes. */
export function expectedCollectorConfig(flags: readonly string[]): Record<string, unknown> {
  const { flags: values } = parseArgs([...flags], flagSpecs(), {});
  return { ...resolveConfig(inputFromFlags(values)) };
}

export async function checkStackConfig(ctx: RunContext): Promise<SelfCheckFinding[]> {
  const endpoints = ctx.stack;
  const signal = ctx.signal;
  const findings: SelfCheckFinding[] = [];
  const collector = await httpJson<unknown>(`${endpoints.collectorHttpUrl}/debug/config`, {
    timeoutMs: 10_000,
    signal,
  }).catch((e: Error) => e);
  // Unreadable is one finding (an older collector image without /debug/config, say), not one per key.
  if (collector instanceof Error)
    findings.push({
      what: 'collector: configuration read back (GET /debug/config)',
      expected: 'an answer',
      found: collector.message,
    });
  else
    findings.push(
      ...collectorConfigMismatches(expectedCollectorConfig(ctx.budget.collectorFlags), collector),
    );
  const prom = await httpJson<{ data?: { yaml?: string } }>(
    `${endpoints.prometheusUrl}/api/v1/status/config`,
    { timeoutMs: 10_000, signal },
  ).catch((e: Error) => ({ data: { yaml: `unreadable: ${e.message}` } }));
  findings.push(
    ...prometheusConfigMismatches(
      {
        scrapeIntervalMs: ctx.config.scrapeIntervalMs,
        sampleLimit: ctx.sampleLimit,
        pullOff: ctx.config.pull === false,
      },
      prom.data?.yaml ?? '',
    ),
  );
  return findings;
}

/** Reads back, records, and stops the run when anything differs from the plan. */
export async function selfCheckStart(ctx: RunContext): Promise<void> {
  const findings = await checkStackConfig(ctx);
  ctx.selfCheck.push(...findings);
  if (findings.length > 0)
    throw new LabError(
      'LAB_ERR_SELF_CHECK',
      `the stack does not run what the lab asked for, so no verdict: ${selfCheckText(findings)}`,
      { findings },
    );
  ctx.progress.note(
    'self-check: the collector and Prometheus run the limits and intervals the lab asked for',
  );
}

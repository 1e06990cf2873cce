import { existsSync } from 'node:fs';
import { LabError } from '@pushpull/common';
import type { paths } from '../../core/paths.ts';
import type { RuntimeAvailability } from '../types.ts';
import { which } from './children.ts';

// What the process runtime needs installed: the Prometheus binaries (Debian packages) and the built
// service bundles. Checked before anything starts, so a missing piece is named instead of a child failing.

export const BINARIES = {
  prometheus: 'prometheus',
  pushgateway: 'prometheus-pushgateway',
  nodeExporter: 'prometheus-node-exporter',
} as const;

/** Debian package names, for "what to install" messages. */
export const APT_PACKAGES = ['prometheus', 'prometheus-pushgateway', 'prometheus-node-exporter'];

export function missingBinaries(bins: string[]): LabError {
  return new LabError(
    'LAB_ERR_MISSING_BINARY',
    `${bins.join(', ')} not found on PATH: install with \`sudo bash scripts/setup.sh\` or \`sudo apt-get install ${APT_PACKAGES.join(' ')}\``,
    { binaries: bins },
  );
}

/** Throws LAB_ERR_MISSING_BINARY naming the first binary or bundle up() would need and cannot find. */
export function checkPrerequisites(p: ReturnType<typeof paths>, withNodeExporter: boolean): void {
  for (const bin of [BINARIES.prometheus, BINARIES.pushgateway]) {
    if (!which(bin)) throw missingBinaries([bin]);
  }
  if (withNodeExporter && !which(BINARIES.nodeExporter)) throw missingBinaries([BINARIES.nodeExporter]);
  if (!existsSync(p.collectorMain) || !existsSync(p.producerMain))
    throw new LabError(
      'LAB_ERR_MISSING_BINARY',
      `the service bundles are not built (${!existsSync(p.collectorMain) ? p.collectorMain : p.producerMain} missing): run \`npm run build\``,
    );
}

/** The selector's question: can this runtime run here? (node-exporter is optional.) */
export function processAvailability(): RuntimeAvailability {
  const missing = [BINARIES.prometheus, BINARIES.pushgateway].filter((b) => !which(b));
  if (missing.length > 0)
    return {
      ok: false,
      reason: `${missing.join(' and ')} not on PATH (install: \`sudo bash scripts/setup.sh\` or \`sudo apt-get install ${APT_PACKAGES.join(' ')}\`)`,
    };
  return {
    ok: true,
    reason: `local binaries: ${[BINARIES.prometheus, BINARIES.pushgateway].map((b) => which(b)).join(', ')}${which(BINARIES.nodeExporter) ? '' : ' (no node-exporter: kernel UDP counters from the collector only)'}`,
  };
}

import { alertsSource } from './alerts.ts';
import { collectorSource } from './collector.ts';
import { healthSource } from './health.ts';
import { ledgersSource } from './ledgers.ts';
import { nodeExporterSource } from './node-exporter.ts';
import { storeSources } from './prometheus.ts';
import { replicaSources } from './replicas.ts';
import { resourcesSource } from './resources.ts';
import type { ProbeSource, ProbeTargets } from './source.ts';

/** Every probe source, in the order a tick starts them. */
export function probeSources(t: ProbeTargets): ProbeSource[] {
  return [
    ...storeSources(t),
    ...replicaSources(t),
    alertsSource(t),
    collectorSource(t),
    nodeExporterSource(t),
    ledgersSource(t),
    resourcesSource(t),
    healthSource(t),
  ];
}

import { alertsSource } from './alerts.ts';
import { collectorSource } from './collector.ts';
import { healthSource } from './health.ts';
import { ledgersSource } from './ledgers.ts';
import { nodeExporterSource } from './node-exporter.ts';
import { prometheusSource } from './prometheus.ts';
import { resourcesSource } from './resources.ts';
import type { ProbeSource, ProbeTargets } from './source.ts';
import { storedOrdersSource } from './stored-orders.ts';

/** Every probe source, in the order a tick starts them. */
export function probeSources(t: ProbeTargets): ProbeSource[] {
  return [
    prometheusSource(t),
    storedOrdersSource(t),
    alertsSource(t),
    collectorSource(t),
    nodeExporterSource(t),
    ledgersSource(t),
    resourcesSource(t),
    healthSource(t),
  ];
}

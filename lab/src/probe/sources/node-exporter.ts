import { httpText } from '../../core/http.ts';
import { nodeUdpSnapshot } from '../exposition.ts';
import { PROBE_TIMEOUT_MS, type ProbeSource, type ProbeTargets, TICK_MS } from './source.ts';

// The kernel's UDP counters (receive-buffer drops) from node-exporter, every tick when there is one.

export function nodeExporterSource(t: ProbeTargets): ProbeSource {
  return {
    name: 'node-exporter',
    periodMs: TICK_MS,
    duty: 2,
    async read(s, { signal }) {
      if (!t.nodeExporterUrl) return;
      const text = await httpText(`${t.nodeExporterUrl}/metrics`, {
        timeoutMs: PROBE_TIMEOUT_MS,
        signal,
      });
      s.node = nodeUdpSnapshot(text);
    },
  };
}

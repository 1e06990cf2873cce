// /metrics serving benchmark (issue 11): render+serve time of a large store, and the collector's RSS while
// 30 clients send GET /metrics and never read. The collector runs in its own process (testkit/fixtures/
// filled-collector.ts), clients on 127.0.0.1, everything bounded in count and time.
//   node --import tsx services/collector/bench/http.bench.ts [--label after] [--series 20000] [--config '{}']
// Results merge into bench/results/collector-http.json under the label (so "before" and "after" sit side
// by side).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cpuMsOf, peakRss, rssOf, startFilled, stuckClients, timedGet } from '../testkit/slow-clients.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const RESULTS = join(ROOT, 'bench/results/collector-http.json');

const { values } = parseArgs({
  options: {
    label: { type: 'string', default: 'current' },
    series: { type: 'string', default: '20000' },
    config: { type: 'string', default: '{}' },
    clients: { type: 'string', default: '30' },
    window: { type: 'string', default: '8000' },
  },
});
const series = Number(values.series);
const nClients = Number(values.clients);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mib = (b: number) => Math.round((b / 2 ** 20) * 10) / 10;

const f = await startFilled(series, JSON.parse(values.config) as Record<string, string>);
try {
  const pid = f.child.pid!;
  await timedGet(f.http);
  // Wall time moves with the machine's load (shared, 2 cores); the collector's CPU time per GET does not.
  const times: number[] = [];
  const cpu: number[] = [];
  let bytes = 0;
  for (let i = 0; i < 7; i++) {
    const c0 = cpuMsOf(pid);
    const r = await timedGet(f.http);
    cpu.push(cpuMsOf(pid) - c0);
    times.push(r.ms);
    bytes = r.bytes;
  }
  const rssIdle = rssOf(pid);
  const clients = await stuckClients(f.http, nClients);
  const rssPeak = await peakRss(pid, Number(values.window));
  for (const s of clients) s.destroy();
  const result = {
    date: new Date().toISOString(),
    command: `node --import tsx services/collector/bench/http.bench.ts --label ${values.label} --series ${series} --config '${values.config}'`,
    machine: { cpus: os.cpus().length, loadavg: os.loadavg() },
    series,
    bodyBytes: bytes,
    bodyMiB: mib(bytes),
    serveMs: { median: Math.round(median(times)), runs: times.map(Math.round) },
    collectorCpuMsPerGet: { median: Math.round(median(cpu)), runs: cpu.map(Math.round) },
    slowClients: {
      clients: nClients,
      windowMs: Number(values.window),
      rssIdleMiB: mib(rssIdle),
      rssPeakMiB: mib(rssPeak),
      grownMiB: mib(rssPeak - rssIdle),
      goalMiB: mib(3 * bytes + 50 * 2 ** 20),
    },
  };
  const all = existsSync(RESULTS)
    ? (JSON.parse(readFileSync(RESULTS, 'utf8')) as Record<string, unknown>)
    : {};
  all[values.label] = result;
  mkdirSync(dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, `${JSON.stringify(all, null, 2)}\n`);
  console.log(JSON.stringify(result, null, 2));
} finally {
  await f.stop();
}

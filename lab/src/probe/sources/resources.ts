import { LabError } from '@pushpull/common';
import { hostMemory } from '../../core/host.ts';
import { type ProbeSource, type ProbeTargets, TICK_MS } from './source.ts';

// What the run costs the machine: CPU seconds and resident memory per component group, and the host's
// MemAvailable, which stops the run before the kernel OOM-kills something. One source (named "cpu" in
// the samples) because the memory guard names the largest components from the same reading.

/** Groups per-component CPU seconds: producer members → "producers"; adds the lab itself. */
export function groupComponents(
  raw: Record<string, number>,
  memberNames: ReadonlySet<string>,
  labSeconds: number,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, secs] of Object.entries(raw)) {
    const key = memberNames.has(name) ? 'producers' : name;
    out[key] = (out[key] ?? 0) + secs;
  }
  out.lab = labSeconds;
  return out;
}

export function resourcesSource(t: ProbeTargets): ProbeSource {
  return {
    name: 'cpu',
    periodMs: TICK_MS,
    duty: 1,
    async read(s, ctx) {
      const raw = await t.cpuSeconds();
      const names = new Set(t.members().map((m) => m.name));
      const u = process.cpuUsage();
      s.cpu = groupComponents(raw, names, (u.user + u.system) / 1e6);
      if (t.rssBytes) {
        const rss = groupComponents(await t.rssBytes(), names, process.memoryUsage.rss());
        s.rss = rss;
      }
      // The same second's budget counters (CPU used, CFS throttling, memory against limit, OOM kills).
      if (t.resourceCounters) s.resources = await t.resourceCounters();
      const mem = hostMemory();
      s.hostMemAvailable = mem?.availableBytes ?? null;
      if (
        mem &&
        t.minHostMemAvailable !== undefined &&
        mem.availableBytes < t.minHostMemAvailable &&
        !ctx.fatal
      )
        ctx.stopRun(memoryExhausted(mem, s.rss ?? {}));
    },
  };
}

function memoryExhausted(
  mem: { availableBytes: number; totalBytes: number },
  rss: Record<string, number>,
): LabError {
  const top = Object.entries(rss)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([k, v]) => `${k} ${(v / 2 ** 30).toFixed(1)} GiB`)
    .join(', ');
  return new LabError(
    'LAB_ERR_CONFIG',
    `host memory nearly exhausted (MemAvailable ${(mem.availableBytes / 2 ** 30).toFixed(1)} of ${(mem.totalBytes / 2 ** 30).toFixed(1)} GiB${top ? `; largest: ${top}` : ''}): stopping the run before the kernel OOM-kills something — this fleet is too large for this machine`,
    { availableBytes: mem.availableBytes },
  );
}

import { describeError } from '@pushpull/common';
import {
  dashboardUrl,
  type GrafanaStart,
  grafanaImage,
  readComposeText,
  startGrafana,
} from '../runtime/grafana.ts';
import type { Runtime, RuntimeFactory, StackEndpoints, StackOptions } from '../runtime/types.ts';

// Watching a live run: once the stack is up, every burst prints where its Prometheus and Pushgateway answer;
// with --grafana it also starts Grafana beside the stack (provisioned against the run's Prometheus) and prints
// the dashboard URL over the run's time range; --hold keeps the stack up after the record is written, until
// Ctrl-C. The runtime is wrapped rather than changed: up() gains the announcements, down() stops Grafana first.

export interface WatchOptions {
  grafana: boolean;
  root: string;
  env: NodeJS.ProcessEnv;
  /** Tests replace the Grafana starter (a real Grafana needs an image this machine lacks). */
  start?: typeof startGrafana;
  now?: () => number;
}

/** What the run's watchers can reach (for the hold message). */
export interface Watch {
  endpoints: StackEndpoints | null;
  grafanaUrl: string | null;
  dashboardUrl: string | null;
}

/** The lines printed once the stack is up. */
export function stackLines(e: StackEndpoints): string[] {
  return [`Prometheus: ${e.prometheusUrl}   Pushgateway: ${e.pushgatewayUrl}`];
}

/** Starts Grafana for a stack that is up; returns its handle (or null) and the line to print. */
async function grafanaFor(
  rt: Runtime,
  opts: StackOptions,
  w: WatchOptions,
  fromMs: number,
): Promise<{ started: GrafanaStart | null; line: string }> {
  if (!rt.grafanaPlacement)
    return {
      started: null,
      line: `Grafana: not available on the ${rt.kind} runtime; the run goes on without it`,
    };
  const image = grafanaImage(w.env, readComposeText(w.root));
  const started = await (w.start ?? startGrafana)({
    runId: opts.runId,
    workDir: opts.workDir,
    repoRoot: w.root,
    placement: rt.grafanaPlacement(),
    scrapeIntervalMs: opts.scrapeIntervalMs,
    image,
  });
  if (!started.ok)
    return { started, line: `Grafana: not started — ${started.reason}; the run goes on without it` };
  return { started, line: `Grafana: ${dashboardUrl(started.url, fromMs)}` };
}

/**
 * The factory's runtimes, wrapped: up() prints the stack's URLs (and starts Grafana), down() stops Grafana
 * before the stack. Every other member is the runtime's own.
 */
export function watchedFactory(
  factory: RuntimeFactory,
  w: WatchOptions,
): { factory: RuntimeFactory; watch: Watch } {
  const watch: Watch = { endpoints: null, grafanaUrl: null, dashboardUrl: null };
  const now = w.now ?? Date.now;
  const wrap = (rt: Runtime): Runtime => {
    let grafana: GrafanaStart | null = null;
    const up = async (opts: StackOptions): Promise<StackEndpoints> => {
      const fromMs = now();
      const e = await rt.up(opts);
      watch.endpoints = e;
      for (const l of stackLines(e)) opts.log(l);
      if (w.grafana) {
        const g = await grafanaFor(rt, opts, w, fromMs).catch((err: unknown) => ({
          started: null,
          line: `Grafana: not started — ${describeError(err)}; the run goes on without it`,
        }));
        grafana = g.started;
        if (grafana?.ok) {
          watch.grafanaUrl = grafana.url;
          watch.dashboardUrl = dashboardUrl(grafana.url, fromMs);
        }
        opts.log(g.line);
      }
      return e;
    };
    const down = async (): Promise<void> => {
      const g = grafana;
      grafana = null;
      if (g?.ok) await g.stop();
      await rt.down();
    };
    return new Proxy(rt, {
      get(target, prop) {
        if (prop === 'up') return up;
        if (prop === 'down') return down;
        const v = Reflect.get(target, prop, target);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
  };
  return { factory: { ...bindAll(factory), create: () => wrap(factory.create()) }, watch };
}

function bindAll(f: RuntimeFactory): RuntimeFactory {
  return {
    kind: f.kind,
    available: () => f.available(),
    create: () => f.create(),
    attach: (s) => f.attach(s),
    reap: (k) => f.reap(k),
  };
}

/** The longest a --hold keeps a stack up (a forgotten terminal must not hold a machine for ever). */
export const HOLD_MAX_MS = 12 * 3600_000;

/** The message printed when the hold begins. */
export function holdLines(watch: Watch, maxMs = HOLD_MAX_MS): string[] {
  const lines = ['holding the stack up (--hold): Ctrl-C ends the run and tears it down'];
  if (watch.endpoints) lines.push(...stackLines(watch.endpoints));
  if (watch.dashboardUrl) lines.push(`Grafana: ${watch.dashboardUrl}`);
  lines.push(`(the hold ends by itself after ${maxMs / 3600_000} h)`);
  return lines;
}

/** Waits until the signal aborts (Ctrl-C: the normal end of a hold) or `maxMs` passed. */
export function holdUntil(signal: AbortSignal, maxMs = HOLD_MAX_MS): Promise<'signal' | 'timeout'> {
  if (signal.aborted) return Promise.resolve('signal');
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve('timeout');
    }, maxMs);
    const onAbort = () => {
      clearTimeout(t);
      resolve('signal');
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

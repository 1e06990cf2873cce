import type { Detection } from './detection.ts';
import { firstIncrease, firstWhere, fmt } from './scan.ts';

// The pull path's failure detectors: scrapes slow, failed or discarded, and Prometheus falling behind.

/** A scrape slower than half its timeout. */
export function slowScrapes({ samples, opts, add }: Detection): void {
  const slow = firstWhere(samples, (s) => {
    const p = s.pull;
    if (!p || p.scrapeMax === null) return null;
    const timeout = p.scrapeTimeout ?? opts.scrapeTimeoutSeconds;
    if (p.scrapeMax > 0.5 * timeout)
      return `slowest scrape ${p.scrapeMax.toFixed(2)} s > half its ${timeout} s timeout${p.slowTargets ? ` (${p.slowTargets} targets)` : ''}`;
    return null;
  });
  if (slow) add('pull', 'slow-scrape', slow.sample, slow.detail);
}

/** A failed scrape (up == 0 on a producer target). */
export function failedScrapes({ samples, add }: Detection): void {
  const failed = firstWhere(samples, (s) => {
    const p = s.pull;
    if (!p || p.targets === null || p.targetsUp === null) return null;
    return p.targetsUp < p.targets
      ? `${p.targets - p.targetsUp} of ${p.targets} pod targets failed their last scrape (up == 0)`
      : null;
  });
  if (failed) add('pull', 'failed-scrape', failed.sample, failed.detail);
}

/** sample_limit exceeded (the whole scrape is discarded). */
export function sampleLimit({ samples, add }: Detection): void {
  const limit = firstIncrease(samples, (s) => s.pull?.sampleLimitExceeded ?? null);
  if (limit)
    add(
      'pull',
      'sample-limit',
      limit.sample,
      `+${fmt(limit.delta)} scrapes exceeded sample_limit and were discarded`,
    );
}

/** Prometheus itself fell behind (actual scrape interval p99 > 1.5 × configured). */
export function intervalStretch({ samples, opts, add }: Detection): void {
  const stretch = firstWhere(samples, (s) => {
    const v = s.pull?.intervalP99;
    if (v === null || v === undefined) return null;
    return v > 1.5 * opts.scrapeIntervalSeconds
      ? `scrape interval p99 ${v.toFixed(2)} s vs configured ${opts.scrapeIntervalSeconds} s (Prometheus fell behind)`
      : null;
  });
  if (stretch) add('pull', 'interval-stretch', stretch.sample, stretch.detail);
}

// The checkout events both paths record: pure, seeded, generated before any timing starts so the timed
// loop does nothing but call the metrics client.

import { Rng } from '@pushpull/common';

export const REGIONS = ['eu-west', 'us-east', 'ap-south', 'sa-east'] as const;
export const PAYMENTS = ['card', 'wallet', 'bank-transfer'] as const;

export interface CheckoutLabels {
  readonly region: string;
  readonly payment: string;
}

export interface CheckoutEvent {
  /** Shared, frozen label objects: one per (region, payment) series, 12 in all. */
  readonly labels: CheckoutLabels;
}

/** `n` checkout events with labels drawn uniformly from the 12 series, repeatable per seed. */
export function makeCheckoutEvents(n: number, seed: number): CheckoutEvent[] {
  const series: CheckoutLabels[] = [];
  for (const region of REGIONS)
    for (const payment of PAYMENTS) series.push(Object.freeze({ region, payment }));
  const rng = new Rng(seed);
  const events: CheckoutEvent[] = [];
  for (let i = 0; i < n; i++) events.push(Object.freeze({ labels: rng.pick(series) }));
  return events;
}

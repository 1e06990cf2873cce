import { instrumentName, REGIONS, REJECT_REASONS, SIDES } from './workload.ts';

// Label objects (pull) and tag arrays (push) for every series, built once per process and shared by all
// pods (prom-client keeps a reference to the label object; hot-shots copies the tag array), so the per-order
// paths allocate nothing of their own and pull and push always carry the same label values.

export type OrderLabels = { readonly region: string; readonly side: string; readonly instrument: string };
export type RegionLabels = { readonly region: string };
export type RejectLabels = { readonly region: string; readonly reason: string };

export const COMBOS = REGIONS.length * SIDES.length;

export class LabelSets {
  /** [instrument][region * SIDES.length + side] */
  readonly orderLabels: OrderLabels[][] = [];
  readonly orderTags: string[][][] = [];
  readonly regionLabels: readonly RegionLabels[] = REGIONS.map((region) => Object.freeze({ region }));
  readonly regionTags: readonly string[][] = REGIONS.map((region) => [`region:${region}`]);
  /** [region][reason] */
  readonly rejectLabels: readonly RejectLabels[][] = REGIONS.map((region) =>
    REJECT_REASONS.map((reason) => Object.freeze({ region, reason })),
  );
  readonly rejectTags: readonly string[][][] = REGIONS.map((region) =>
    REJECT_REASONS.map((reason) => [`region:${region}`, `reason:${reason}`]),
  );

  constructor(private readonly steadyInstruments: number) {}

  /** Makes sure label sets exist for instruments [0, count). */
  ensure(count: number): void {
    for (let i = this.orderLabels.length; i < count; i++) {
      const instrument = instrumentName(i, this.steadyInstruments);
      const labels: OrderLabels[] = [];
      const tags: string[][] = [];
      for (const region of REGIONS)
        for (const side of SIDES) {
          labels.push(Object.freeze({ region, side, instrument }));
          tags.push([`region:${region}`, `side:${side}`, `instrument:${instrument}`]);
        }
      this.orderLabels.push(labels);
      this.orderTags.push(tags);
    }
  }
}

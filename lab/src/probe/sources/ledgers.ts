import { ledgerTotals } from '../../analysis/accounting.ts';
import { mapLimit } from '../../core/time.ts';
import { ControlClient } from '../control.ts';
import { PROBE_TIMEOUT_MS, type ProbeSource, type ProbeTargets, TICK_MS } from './source.ts';

// The producers' ground-truth ledgers, summed. A ledger costs a producer almost nothing; its latency is
// the producer's busy event loop, so back off little (the ground truth is needed every second for the
// charts and the datagram attribution).

export function ledgersSource(t: ProbeTargets): ProbeSource {
  return {
    name: 'ledgers',
    periodMs: TICK_MS,
    duty: 2,
    async read(s, { signal }) {
      const members = t.members();
      const ledgers = await mapLimit(members, 8, (m) =>
        new ControlClient(m.baseUrl, PROBE_TIMEOUT_MS).ledger(signal).then(
          (l) => l,
          () => null,
        ),
      );
      const ok = ledgers.filter((l) => l !== null);
      s.ledgerProducers = ok.length;
      // A partial sum would look like a drop in the rate charts: keep only complete ticks.
      if (ok.length === members.length && ok.length > 0) s.ledger = ledgerTotals(ok);
      else if (members.length > 0)
        s.errors.push(`ledgers: ${members.length - ok.length} of ${members.length} producers did not answer`);
    },
  };
}

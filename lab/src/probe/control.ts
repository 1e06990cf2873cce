import type { ControlState } from '@pushpull/common';
import { httpJson } from '../core/http.ts';
import type { Ledger } from '../core/record.ts';

// The producers' control API (docs/contracts.md): the ground truth is read here, never through the paths
// being measured.

/** GET /control/state: the wire contract (@pushpull/common), under the name the lab has always used. */
export type ProducerState = ControlState;

export class ControlClient {
  constructor(
    readonly baseUrl: string,
    private readonly timeoutMs = 5000,
  ) {}

  state(signal?: AbortSignal): Promise<ProducerState> {
    return httpJson<ProducerState>(`${this.baseUrl}/control/state`, { timeoutMs: this.timeoutMs, signal });
  }

  ledger(signal?: AbortSignal): Promise<Ledger> {
    return httpJson<Ledger>(`${this.baseUrl}/control/ledger`, { timeoutMs: this.timeoutMs, signal });
  }

  schedule(startAtMs: number, profile: unknown, signal?: AbortSignal): Promise<ProducerState> {
    return httpJson<ProducerState>(`${this.baseUrl}/control/schedule`, {
      method: 'POST',
      body: profile === undefined ? { startAtMs } : { startAtMs, profile },
      timeoutMs: this.timeoutMs,
      signal,
    });
  }

  /** Stops generating orders, flushes every push buffer, returns the ledger. */
  quiesce(signal?: AbortSignal): Promise<Ledger> {
    return httpJson<Ledger>(`${this.baseUrl}/control/quiesce`, {
      method: 'POST',
      body: {},
      timeoutMs: Math.max(this.timeoutMs, 15_000),
      signal,
    });
  }
}

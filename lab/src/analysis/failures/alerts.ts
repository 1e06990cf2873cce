import type { PathName } from '../../core/record.ts';
import type { Detection } from './detection.ts';
import { secs } from './scan.ts';

// The alerts detector: the first time each Prometheus alert was seen firing.

/** Which path an alert belongs to (alert names are fixed by docs/contracts.md). */
export const ALERT_PATH: Record<string, PathName> = {
  InstanceDown: 'pull',
  ScrapeDurationNearTimeout: 'pull',
  SampleLimitHit: 'pull',
  PushHeartbeatAbsent: 'push',
  UdpReceiveErrors: 'push',
  PushgatewayGroupStale: 'push',
  PrometheusPeerDown: 'pull', // #28: the Prometheus pair's meta-monitoring (a replica stopped answering its peer)
};

/** Marks UdpReceiveErrors as discounted already (an alert name cannot contain NUL). */
const UDP_DISCOUNTED = '\0udp-discounted';

export function alertsFiring({ samples, t0, opts, kernel, add, discount }: Detection): void {
  const seen = new Set<string>();
  let udpWasFiring = false;
  for (const s of samples) {
    if (s.alerts === null) continue;
    const udpFiring = s.alerts.some((a) => a.name === 'UdpReceiveErrors' && a.state === 'firing');
    const udpStarted = udpFiring && !udpWasFiring;
    udpWasFiring = udpFiring;
    for (const a of s.alerts) {
      if (a.state !== 'firing' || seen.has(a.name)) continue;
      // On a shared namespace the alert is this run's only if it STARTS firing once this run loses datagrams.
      if (opts.sharedNetns && a.name === 'UdpReceiveErrors' && (s.tMs < kernel.kernelFrom || !udpStarted)) {
        if (!seen.has(UDP_DISCOUNTED))
          discount(
            'alert:UdpReceiveErrors',
            `${kernel.sharedReason} (alert firing ${secs(s, t0).toFixed(1)} s after the open)`,
          );
        seen.add(UDP_DISCOUNTED);
        continue;
      }
      seen.add(a.name);
      add(
        ALERT_PATH[a.name] ?? 'pull',
        `alert:${a.name}`,
        s,
        `alert ${a.name} firing (${a.count} instance${a.count === 1 ? '' : 's'})`,
      );
    }
  }
}

// #27: the push-agent column's record keys in words, for drill.html (report.ts spreads them into its tables).

export const PUSH_AGENT_METRIC_WORDS: Record<string, string> = {
  agentDeathSeenAfterS: "seconds until the lab saw the agent's process gone (-1 = never)",
  centralAlertAfterS: 'seconds until InstanceDown fired for the central collector (-1 = never)',
  agentSawFailureAfterS: "seconds until the agent's books counted a failed forward request (-1 = never)",
  agentHeldAtKill: 'orders the agent held at its last reading before the kill (received, not forwarded)',
  agentQueuePeakPoints: "the most points in the agent's forward queue at one reading",
  agentFailedRequests: 'forward requests that failed (connection error, timeout, 4xx/5xx)',
  agentRetries: 'forward retries',
  queueFullOrders: 'orders the agent dropped: its forward queue was full',
  forwardFailedOrders: 'orders the agent dropped: forwarding failed after its retries',
  centralCountedBeforeStop: 'orders the central collector had counted for the pods when it stopped',
  outageS: 'the outage, seconds',
};

export const PUSH_AGENT_SERIES_WORDS: Record<string, { title: string; y: string; x?: string }> = {
  agentQueuePoints: {
    title: "points waiting in the agent's forward queue",
    y: 'points queued',
    x: 'seconds since the fault',
  },
  agentFailedRequests: {
    title: 'forward requests the agent saw fail, cumulative',
    y: 'failed requests',
    x: 'seconds since the fault',
  },
};

// The pod-id rule, one definition for the lab and the producer: a producer named NAME hosts the virtual pods
// NAME-p0 … NAME-p(N-1). The lab predicts its members' pod ids from it (no round trip per pod), the producer
// names its registries, discovery entries and StatsD/OTLP sources by it, so both sides always agree.

/** The prefix of every pod id of producer `name`. */
export function podPrefixOf(name: string): string {
  return `${name}-p`;
}

/** Pod `k` (0-based) of producer `name`. */
export function podIdOf(name: string, k: number): string {
  return `${podPrefixOf(name)}${k}`;
}

/** The ids of the `pods` pods of producer `name` (or of an explicit prefix). */
export function podIdsOf(name: string, pods: number, prefix = podPrefixOf(name)): string[] {
  return Array.from({ length: pods }, (_, k) => `${prefix}${k}`);
}

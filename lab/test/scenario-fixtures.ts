// The smallest valid drill scenario the unit tests start from (target-dies, 4 pods, a kill at 0 s), with its
// push-udp variants named; tests derive the cases they need from its text.
export const targetDiesYaml = (variants: readonly string[], expectVariant?: string) => `
name: t
title: T
mode: target-dies
description: d
fleet: { pods: 4, podsPerProducer: 2 }
observe: 30s
variants:
${variants.map((v) => `  - { name: ${v}, column: push-udp }`).join('\n')}
faults:
  - { at: 0s, action: kill, producer: 1 }
expect:
  - { column: pull, ${expectVariant ? `variant: ${expectVariant}, ` : ''}detectedWithin: 45s }
`;

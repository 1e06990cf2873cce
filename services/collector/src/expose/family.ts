// The exposition text's family header, and a family of one unlabelled sample: shared by the self-metrics
// and agent mode's books (which self.ts appends, so they cannot import it back).

export function family(name: string, type: string, help: string): string {
  return `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n`;
}

/** A family with its one unlabelled sample. */
export function single(name: string, type: 'counter' | 'gauge', help: string, value: number): string {
  return `${family(name, type, help)}${name} ${value}\n`;
}

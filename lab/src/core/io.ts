/** Written as-is (like process.stdout.write): every call from a command is whole lines ending in "\n". */
export interface CommandIo {
  out: (s: string) => void;
  err: (s: string) => void;
}

/** The same sinks, each call completed with a newline. */
export function lineIo(io: CommandIo): CommandIo {
  return { out: (s) => io.out(`${s}\n`), err: (s) => io.err(`${s}\n`) };
}

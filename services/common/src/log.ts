// Services log one JSON object per line on stdout (the lab parses the "listening" line to learn the
// ports a process actually bound when started on port 0). Warnings and errors go to stderr.

export type LogFields = Record<string, unknown>;

export interface Logger {
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

export function jsonLogger(
  component: string,
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
): Logger {
  const write = (stream: NodeJS.WritableStream, level: string, msg: string, fields?: LogFields) => {
    stream.write(`${JSON.stringify({ ts: new Date().toISOString(), level, component, msg, ...fields })}\n`);
  };
  return {
    info: (m, f) => write(out, 'info', m, f),
    warn: (m, f) => write(err, 'warn', m, f),
    error: (m, f) => write(err, 'error', m, f),
  };
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };

// pushpull-lab: the only file that reads argv and the process's streams. Dispatch lives in cli/.
import { runCli } from './commands/index.ts';

const code = await runCli(process.argv.slice(2), {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  isTTY: process.stdout.isTTY === true,
  ...(process.stdout.columns ? { columns: process.stdout.columns } : {}),
  env: process.env,
});
process.exitCode = code;
// Keep-alive sockets must not hold the exit: leave once stdout has drained.
process.stdout.write('', () => setTimeout(() => process.exit(code), 50).unref());

import { execFile, spawn } from 'node:child_process';
import { LabError } from '@pushpull/common';

// Running host commands for `nodes up/down`: argv arrays (no shell), each with a timeout.

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run argv; never throws for a non-zero exit (the caller decides). Bounded by timeoutMs. */
export function run(argv: readonly string[], timeoutMs = 30_000): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      argv[0]!,
      argv.slice(1),
      { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({
          code,
          stdout: String(stdout),
          stderr: String(stderr || (err && !stdout ? err.message : '')),
        });
      },
    );
  });
}

/** Run argv and require exit 0: LAB_ERR_CHILD_EXIT with the command and its stderr otherwise. */
export async function must(argv: readonly string[], timeoutMs = 30_000): Promise<string> {
  const r = await run(argv, timeoutMs);
  if (r.code !== 0)
    throw new LabError(
      'LAB_ERR_CHILD_EXIT',
      `\`${argv.join(' ')}\` exited ${r.code}: ${r.stderr.trim().slice(0, 400)}`,
      { value: argv.join(' ') },
    );
  return r.stdout;
}

/** `docker save IMAGES | docker -H SOCKET load`, bounded by timeoutMs. */
export function pipeImages(images: readonly string[], socket: string, timeoutMs = 300_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const save = spawn('docker', ['save', ...images], { stdio: ['ignore', 'pipe', 'pipe'] });
    const load = spawn('docker', ['-H', `unix://${socket}`, 'load', '-q'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let errText = '';
    save.stderr.on('data', (d) => {
      errText += d;
    });
    load.stderr.on('data', (d) => {
      errText += d;
    });
    save.stdout.pipe(load.stdin);
    const timer = setTimeout(() => {
      save.kill('SIGKILL');
      load.kill('SIGKILL');
    }, timeoutMs);
    let saveCode: number | null = null;
    save.on('close', (c) => {
      saveCode = c;
    });
    load.on('close', (c) => {
      clearTimeout(timer);
      if (c === 0 && saveCode === 0) resolve();
      else
        reject(
          new LabError(
            'LAB_ERR_IMAGE_MISSING',
            `loading ${images.join(', ')} into the node at ${socket} failed (save ${saveCode}, load ${c}): ${errText.trim().slice(0, 400)}`,
            { value: images.join(',') },
          ),
        );
    });
  });
}

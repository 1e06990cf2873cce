// The error catalogue holds only codes the lab throws, and the troubleshooting table explains every one of
// them (a code that is never thrown, such as the old LAB_ERR_FAIL_ON, would be a promise nobody keeps).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ErrorCodes } from '@pushpull/common';
import { repoRoot } from '../src/core/paths.ts';

const root = repoRoot();

function files(dir: string, ext: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) files(p, ext, out);
    else if (name.endsWith(ext)) out.push(p);
  }
  return out;
}

const src = ['services/common/src', 'services/collector/src', 'services/producer/src', 'lab/src']
  .flatMap((d) => files(join(root, d), '.ts'))
  .filter((f) => !f.endsWith(join('common', 'src', 'errors.ts')))
  .map((f) => readFileSync(f, 'utf8'))
  .join('\n');
const docs = [join(root, 'README.md'), join(root, 'lab/README.md'), ...files(join(root, 'docs'), '.md')]
  .map((f) => readFileSync(f, 'utf8'))
  .join('\n');

describe('error catalogue', () => {
  for (const code of Object.keys(ErrorCodes)) {
    it(`${code} is raised by the code`, () =>
      assert.match(
        src,
        new RegExp(`new LabError\\(\\s*'${code}'|'${code}'`),
        `${code} is never used in src`,
      ));
    it(`${code} has a troubleshooting row`, () =>
      assert.match(
        docs,
        new RegExp(`^\\|[^\\n]*\`${code}\``, 'm'),
        `${code} is not in a troubleshooting table`,
      ));
  }
});

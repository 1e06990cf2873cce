#!/usr/bin/env node
// The `pushpull-lab` command npm links into node_modules/.bin. It is committed (dist/ is not), so npm can link it
// at install time, before any build; it runs the esbuild bundle and says what to do when there is none yet.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const bundle = new URL('../dist/main.js', import.meta.url);
if (!existsSync(fileURLToPath(bundle))) {
  process.stderr.write(
    `pushpull-lab: lab/dist/main.js is not built yet: run \`npm run build\` in the repository first\n`,
  );
  process.exit(1);
}
await import(bundle.href);

#!/usr/bin/env node
// Builds every workspace entry point into one ESM file (dist/main.js) with esbuild.
// Why bundles: the service images are assembled air-gapped from a bare Node base image, so a single
// self-contained file per service is the simplest thing that needs no registry and no node_modules in the image.
// The lab runs from the repository (it needs dockerode's optional natives), so its npm dependencies stay external.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const targets = [
  { dir: 'services/collector', external: false },
  { dir: 'services/producer', external: false },
  { dir: 'lab', external: true },
];
const banner = [
  '#!/usr/bin/env node',
  "import { createRequire as __pp_createRequire } from 'node:module';",
  'const require = __pp_createRequire(import.meta.url);',
].join('\n');

// The lab keeps its npm dependencies external but bundles the workspace packages (@pushpull/*): those
// export TypeScript sources, which Node 20 cannot load at run time.
const externalDependencies = {
  name: 'external-dependencies',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (a) =>
      a.path.startsWith('@pushpull/') ? undefined : { path: a.path, external: true },
    );
  },
};

const started = Date.now();
for (const t of targets) {
  const entry = join(root, t.dir, 'src/main.ts');
  if (!existsSync(entry)) continue;
  await build({
    entryPoints: [entry],
    outfile: join(root, t.dir, 'dist/main.js'),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    sourcemap: 'linked',
    banner: { js: banner },
    plugins: t.external ? [externalDependencies] : [],
    logLevel: 'warning',
  });
}
if (!process.env.CI && process.stdout.isTTY) console.log(`build: done in ${Date.now() - started} ms`);

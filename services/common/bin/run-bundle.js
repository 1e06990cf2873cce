// What each service's committed bin entry (bin/pushpull-<service>.js, the command npm links into
// node_modules/.bin) does: run the workspace's esbuild bundle, or say what to do when there is none yet.
// The entries are committed and dist/ is not, so npm can link them at install time, before any build; this
// file is plain JavaScript for the same reason.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Imports `../dist/main.js` next to the bin entry at `binUrl` (its import.meta.url); exits 1 naming
 * `workspace` (its folder from the repository root) when that bundle is not built.
 */
export async function runBundle(command, workspace, binUrl) {
  const bundle = new URL('../dist/main.js', binUrl);
  if (!existsSync(fileURLToPath(bundle))) {
    process.stderr.write(
      `${command}: ${workspace}/dist/main.js is not built yet: run \`npm run build\` in the repository first\n`,
    );
    process.exit(1);
  }
  await import(bundle.href);
}

// Writes grafana/dashboards/*.json from grafana/src/dashboards.ts.
//   npx tsx grafana/generate.ts           regenerate
//   npx tsx grafana/generate.ts --check   exit 1 if a committed dashboard differs from the source
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDashboards, renderDashboard } from './src/dashboards.ts';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'dashboards');
const check = process.argv.includes('--check');

let stale = 0;
for (const [file, model] of Object.entries(buildDashboards())) {
  const path = join(dir, file);
  const text = renderDashboard(model);
  if (check) {
    let current = '';
    try {
      current = readFileSync(path, 'utf8');
    } catch {}
    if (current !== text) {
      console.error(`grafana: ${file} is out of date; run \`npx tsx grafana/generate.ts\``);
      stale++;
    }
  } else {
    writeFileSync(path, text);
    console.log(`grafana: wrote dashboards/${file}`);
  }
}
process.exit(stale > 0 ? 1 : 0);

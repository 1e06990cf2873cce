// Grafana provisioning and dashboards, statically: every dashboard parses as a current Grafana model, every
// panel, target and annotation goes through the `datasource` variable, no query names an instance, the
// provisioning files point where docker-compose.yml mounts them, and every query is valid PromQL (promtool).
// The same queries are evaluated against a real Prometheus during a lab run in grafana.int.test.ts.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { buildDashboards, renderDashboard } from '../../grafana/src/dashboards.ts';
import {
  allPanels,
  annotationsOf,
  type DashboardQuery,
  extractQueries,
  interpolate,
  type Json,
  rateIntervalS,
} from '../../grafana/src/inspect.ts';
import { onPath, skipUnless } from './requirements.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const dashDir = join(root, 'grafana/dashboards');
const DS = { type: 'prometheus', uid: `\${datasource}` };
/** Job names fixed by docs/contracts.md, plus the lab's own Pushgateway group. */
const JOBS = new Set([
  'producers',
  'collector',
  'pushgateway',
  'node-exporter',
  'prometheus',
  'pushpull_lab',
]);

function loadDashboards(): { file: string; text: string; model: Json }[] {
  return readdirSync(dashDir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => {
      const text = readFileSync(join(dashDir, file), 'utf8');
      return { file, text, model: JSON.parse(text) as Json };
    });
}

const dashboards = loadDashboards();
const queries: DashboardQuery[] = dashboards.flatMap((d) => extractQueries(d.file, d.model));
const byFile = (file: string) => {
  const d = dashboards.find((x) => x.file === file);
  assert.ok(d, `${file} exists`);
  return d;
};
const panelsOf = (m: Json) => allPanels(m).filter((p) => p.type !== 'row');
const label = (q: DashboardQuery) => `${q.file} "${q.title}" ${q.refId}`;

/** Every value stored under a `datasource` key anywhere in the model, with its JSON path. */
function datasourceRefs(v: unknown, path = '$', out: [string, unknown][] = []): [string, unknown][] {
  if (Array.isArray(v)) {
    for (const [i, x] of v.entries()) datasourceRefs(x, `${path}[${i}]`, out);
  } else if (typeof v === 'object' && v !== null) {
    for (const [k, x] of Object.entries(v)) {
      if (k === 'datasource') out.push([`${path}.${k}`, x]);
      datasourceRefs(x, `${path}.${k}`, out);
    }
  }
  return out;
}

describe('grafana dashboards', () => {
  it('are exactly the two provisioned dashboards, and match their generator', () => {
    assert.deepEqual(
      dashboards.map((d) => d.file),
      ['collector.json', 'market-open.json'],
    );
    const built = buildDashboards();
    for (const d of dashboards) {
      const model = built[d.file];
      assert.ok(model, `${d.file} comes from grafana/src/dashboards.ts`);
      assert.equal(d.text, renderDashboard(model), `${d.file} is stale: run npx tsx grafana/generate.ts`);
    }
  });

  it('are current Grafana models: schemaVersion >= 39, stable unique uids, 5s refresh, unique panel ids', () => {
    const uids = new Set<string>();
    for (const { file, model } of dashboards) {
      assert.ok(
        typeof model.schemaVersion === 'number' && model.schemaVersion >= 39,
        `${file} schemaVersion`,
      );
      assert.equal(model.id, null, `${file}: id is null (Grafana assigns it)`);
      assert.match(String(model.uid), /^[a-z0-9-]{1,40}$/, `${file} uid`);
      assert.ok(!uids.has(String(model.uid)), `${file}: uid ${model.uid} is unique`);
      uids.add(String(model.uid));
      assert.equal(model.refresh, '5s', `${file} refresh`);
      assert.ok(typeof model.title === 'string' && model.title.length > 0);
      const ids = allPanels(model).map((p) => p.id);
      assert.equal(new Set(ids).size, ids.length, `${file}: panel ids unique`);
      assert.ok(
        ids.every((id) => Number.isInteger(id)),
        `${file}: panel ids are integers`,
      );
    }
    assert.equal(byFile('market-open.json').model.title, 'Market open: push vs pull');
    assert.equal(byFile('market-open.json').model.uid, 'pushpull-market-open');
    assert.equal(byFile('collector.json').model.uid, 'pushpull-collector');
  });

  it('lay panels out inside the 24-column grid without overlaps', () => {
    for (const { file, model } of dashboards) {
      const cells = new Set<string>();
      for (const p of allPanels(model)) {
        const g = p.gridPos as { x: number; y: number; w: number; h: number };
        assert.ok(g.x >= 0 && g.w > 0 && g.x + g.w <= 24 && g.h > 0, `${file} panel ${p.id} gridPos`);
        for (let x = g.x; x < g.x + g.w; x++)
          for (let y = g.y; y < g.y + g.h; y++) {
            const key = `${x},${y}`;
            assert.ok(!cells.has(key), `${file}: panel ${p.id} "${p.title}" overlaps at ${key}`);
            cells.add(key);
          }
      }
    }
  });

  it('have a `datasource` variable of type datasource (prometheus)', () => {
    for (const { file, model } of dashboards) {
      const list = ((model.templating as Json).list ?? []) as Json[];
      const v = list.find((x) => x.name === 'datasource');
      assert.ok(v, `${file} has a datasource variable`);
      assert.equal(v.type, 'datasource');
      assert.equal(v.query, 'prometheus');
    }
  });

  it('route every panel, target and annotation through the datasource variable and nothing else', () => {
    for (const { file, model } of dashboards) {
      const refs = datasourceRefs(model);
      assert.ok(refs.length > 0);
      for (const [path, ref] of refs) assert.deepEqual(ref, DS, `${file} ${path}`);
      for (const p of panelsOf(model)) {
        assert.deepEqual(p.datasource, DS, `${file} panel "${p.title}"`);
        const targets = (p.targets ?? []) as Json[];
        assert.ok(targets.length > 0, `${file} panel "${p.title}" has targets`);
        const refIds = targets.map((t) => t.refId);
        assert.equal(new Set(refIds).size, refIds.length, `${file} panel "${p.title}" refIds unique`);
        for (const t of targets) assert.deepEqual(t.datasource, DS, `${file} "${p.title}" ${t.refId}`);
        assert.ok(typeof p.description === 'string' && p.description.length > 20, `"${p.title}" explained`);
        const unit = ((p.fieldConfig as Json).defaults as Json).unit;
        assert.ok(typeof unit === 'string' && unit.length > 0, `"${p.title}" has a unit`);
      }
      for (const a of annotationsOf(model))
        assert.deepEqual(a.datasource, DS, `${file} annotation ${a.name}`);
    }
  });

  it('extract every query into one list, each non-empty and fully interpolable', () => {
    assert.ok(queries.length >= 60, `found ${queries.length} queries`);
    const vars = { scrapeIntervalS: 1, intervalS: 1, rangeS: 30 };
    for (const q of queries) {
      assert.ok(q.expr.trim().length > 0, `${label(q)} has an expr`);
      const expr = interpolate(q.expr, vars);
      assert.ok(!expr.includes('$'), `${label(q)}: unresolved variable in ${expr}`);
    }
    // The list, for the record (node --test prints diagnostics).
    for (const q of queries) console.log(`# ${label(q)}: ${q.expr}`);
  });

  it('name no instance, host:port, pod or container in any query, and only the contract job names', () => {
    for (const q of queries) {
      const e = q.expr;
      assert.doesNotMatch(e, /\b(instance|pod|container|source|target)\s*(=|!=|=~|!~)/, label(q));
      assert.doesNotMatch(e, /\b\d{1,3}(\.\d{1,3}){3}\b/, `${label(q)}: IP address`);
      assert.doesNotMatch(e, /localhost/i, `${label(q)}: localhost`);
      assert.doesNotMatch(e, /[A-Za-z][\w.-]*:\d{2,5}\b/, `${label(q)}: host:port`);
      for (const m of e.matchAll(/\bjob\s*(=|!=|=~|!~)\s*"([^"]*)"/g))
        assert.ok(JOBS.has(m[2] ?? ''), `${label(q)}: unknown job "${m[2]}"`);
    }
  });

  it('cover every view the drill needs (issue 7) with the contract metric names', () => {
    const uses = (file: string, ...needles: string[]) => {
      const exprs = queries.filter((q) => q.file === file).map((q) => q.expr);
      for (const n of needles)
        assert.ok(
          exprs.some((e) => e.includes(n)),
          `${file} queries ${n}`,
        );
    };
    uses(
      'market-open.json',
      'orders_total{job="producers"}',
      'orders{job="collector"}',
      'scrape_body_size_bytes',
      'scrape_samples_scraped',
      'scrape_duration_seconds',
      'avg by (job) (up)',
      'collector_packets_total',
      'collector_kernel_udp_in_datagrams_total',
      'node_netstat_Udp_InDatagrams',
      'collector_kernel_udp_rcvbuf_errors_total',
      'node_netstat_Udp_RcvbufErrors',
      'node_netstat_Udp_InErrors',
      'collector_sources_active',
      'pushpull_lab_expected_sources',
      'time() - push_time_seconds',
      'ALERTS{alertstate="firing"}',
      'pushpull_lab_phase',
      'pushpull_lab_phase_started_timestamp_seconds',
      'pushpull_lab_faults_total',
    );
    uses(
      'collector.json',
      'collector_packets_total',
      'collector_bytes_total',
      'collector_lines_total',
      'collector_samples_total',
      'collector_parse_errors_total',
      'collector_series',
      'collector_series_rejected_total',
      'collector_flush_duration_seconds',
      'collector_event_loop_lag_seconds',
      'collector_kernel_udp_rcvbuf_errors_total',
      'collector_kernel_udp_in_errors_total',
      'collector_kernel_udp_in_datagrams_total',
      'collector_sources_active',
      'collector_source_last_seen_timestamp_seconds',
      'collector_udp_rcvbuf_bytes',
    );
    const market = panelsOf(byFile('market-open.json').model);
    assert.ok(
      market.some((p) => p.type === 'heatmap'),
      'market-open has a scrape duration heatmap',
    );
    const names = annotationsOf(byFile('market-open.json').model).map((a) => a.name);
    for (const n of ['Lab phases', 'Burst instant', 'Faults'])
      assert.ok(names.includes(n), `annotation ${n}`);
  });

  it('interpolate Grafana interval variables as Grafana does', () => {
    const v = { scrapeIntervalS: 15, intervalS: 1, rangeS: 900 };
    assert.equal(rateIntervalS(v), 60);
    assert.equal(rateIntervalS({ scrapeIntervalS: 15, intervalS: 120, rangeS: 900 }), 135);
    assert.equal(
      interpolate(
        `rate(x[$__rate_interval]) offset $__interval + $__range_s + \${__range} + $__interval_ms`,
        v,
      ),
      'rate(x[60s]) offset 1s + 900 + 900s + 1000',
    );
    assert.equal(interpolate('x[$__interval]', { ...v, intervalS: 0.5 }), 'x[500ms]');
    assert.equal(interpolate('$datasource $__unknown', v), '$datasource $__unknown');
  });

  const promtool = skipUnless(
    'grafana.test.ts',
    onPath('promtool'),
    'promtool',
    'as root: bash scripts/setup.sh, or apt-get install prometheus',
  );
  it('are valid PromQL (every query through promtool check rules)', { skip: promtool }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'pushpull-grafana-'));
    try {
      const vars = { scrapeIntervalS: 15, intervalS: 15, rangeS: 900 };
      const rules = queries.map((q, i) => ({ record: `grafana:q${i}`, expr: interpolate(q.expr, vars) }));
      const file = join(dir, 'queries.yml');
      writeFileSync(file, JSON.stringify({ groups: [{ name: 'grafana', rules }] }));
      const r = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
      assert.equal(r.status, 0, `promtool: ${r.stdout}${r.stderr}`);
      assert.match(r.stdout, new RegExp(`SUCCESS: ${rules.length} rules found`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('grafana provisioning', () => {
  const compose = parseYaml(readFileSync(join(root, 'docker-compose.yml'), 'utf8')) as {
    services: Record<string, { image?: string; volumes?: string[]; profiles?: string[] }>;
  };
  const grafana = compose.services.grafana;
  /** Where compose mounts a repo path inside the Grafana container. */
  const mountOf = (repoPath: string) => {
    const v = (grafana?.volumes ?? []).find((x) => x.split(':')[0] === repoPath);
    assert.ok(v, `compose mounts ${repoPath} into grafana`);
    return v.split(':')[1];
  };

  it('provisions the Prometheus datasource the compose stack serves, with uid prometheus', () => {
    const doc = parseYaml(
      readFileSync(join(root, 'grafana/provisioning/datasources/prometheus.yml'), 'utf8'),
    );
    assert.equal(doc.apiVersion, 1);
    assert.equal(doc.datasources.length, 2, "#24: pull's (default) and push's store");
    assert.equal(doc.datasources[1].uid, 'prometheus-push');
    assert.equal(doc.datasources[1].url, 'http://prometheus-push:9090');
    assert.ok(compose.services['prometheus-push'], 'compose runs the push store it points at');
    const ds = doc.datasources[0];
    assert.equal(ds.type, 'prometheus');
    assert.equal(ds.uid, 'prometheus');
    assert.equal(ds.url, 'http://prometheus:9090');
    assert.equal(ds.access, 'proxy');
    assert.equal(ds.isDefault, true);
    assert.ok(compose.services.prometheus, 'compose has a prometheus service');
    // The datasource variable defaults to this uid.
    for (const { model } of dashboards) {
      const v = ((model.templating as Json).list as Json[]).find((x) => x.name === 'datasource') as Json;
      assert.equal((v.current as Json).value, ds.uid);
    }
  });

  it('loads dashboards from the directory compose mounts grafana/dashboards at', () => {
    assert.deepEqual(grafana?.profiles, ['grafana']);
    assert.equal(mountOf('./grafana/provisioning')?.replace(/\/$/, ''), '/etc/grafana/provisioning');
    const doc = parseYaml(readFileSync(join(root, 'grafana/provisioning/dashboards/pushpull.yml'), 'utf8'));
    assert.equal(doc.apiVersion, 1);
    assert.equal(doc.providers.length, 1);
    const p = doc.providers[0];
    assert.equal(p.type, 'file');
    assert.equal(p.options.path, '/var/lib/grafana/dashboards');
    assert.equal(p.options.path, mountOf('./grafana/dashboards'));
  });
});

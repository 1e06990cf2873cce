// Three small programs the swarm runtime runs inside the stack with the producer image's node (no image of
// their own: nothing to build, pull or copy to the nodes). Plain JavaScript text handed to `node -e`; each
// reads its settings from the environment and has no dependency beyond Node's standard library.

/**
 * The proxy: how the lab on the host reaches the stack. Swarm can publish a port only on every interface
 * (ingress and host mode alike) and the host cannot route to overlay addresses, so the lab starts this in
 * a plain container attached to the run's attachable overlay and publishes ITS port on 127.0.0.1 only.
 * Routes: /<alias>/... → http://<alias>:<port>/... for the run's components (PROXY_ROUTES, JSON
 * {alias: port}); /task/<ip>:<port>/... → a task of the run, only inside the run's subnet (PROXY_SUBNET,
 * a.b.c.d/nn) so it can never become a way to send load elsewhere; /clock → this host's clock (ms), which
 * the clock probe on every node compares its own with. One keep-alive agent: the probes hit it every second.
 */
export const PROXY_SCRIPT = String.raw`
const http = require('node:http');
const routes = JSON.parse(process.env.PROXY_ROUTES || '{}');
const [net, bits] = (process.env.PROXY_SUBNET || '0.0.0.0/32').split('/');
const toInt = (ip) => ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
const block = 2 ** (32 - Number(bits));
const inSubnet = (ip) => /^\d+\.\d+\.\d+\.\d+$/.test(ip) && Math.floor(toInt(ip) / block) === Math.floor(toInt(net) / block);
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
function route(url) {
  const m = /^\/([^/?]+)(.*)$/.exec(url);
  if (!m) return null;
  if (m[1] === 'task') {
    const t = /^\/(\d+\.\d+\.\d+\.\d+):(\d+)(.*)$/.exec(m[2]);
    if (!t || !inSubnet(t[1])) return null;
    return { host: t[1], port: Number(t[2]), path: t[3] || '/' };
  }
  const port = routes[m[1]];
  return port ? { host: m[1], port, path: m[2] || '/' } : null;
}
const server = http.createServer((req, res) => {
  if (req.url === '/clock') { res.end(String(Date.now())); return; }
  const r = route(req.url);
  if (!r) { res.writeHead(404); res.end('no such route: ' + req.url); return; }
  const headers = { ...req.headers, host: r.host + ':' + r.port };
  const up = http.request({ host: r.host, port: r.port, path: r.path.startsWith('/') ? r.path : '/' + r.path, method: req.method, headers, agent }, (u) => {
    res.writeHead(u.statusCode, u.headers);
    u.pipe(res);
  });
  up.setTimeout(120000, () => up.destroy(new Error('upstream timeout')));
  up.on('error', (e) => { if (!res.headersSent) res.writeHead(502); res.end('proxy: ' + e.message); });
  req.pipe(up);
});
server.keepAliveTimeout = 65000;
server.listen(Number(process.env.PROXY_PORT || 8080), () => console.log(JSON.stringify({ msg: 'listening', port: server.address().port })));
process.on('SIGTERM', () => process.exit(0));
`;

/**
 * The discovery service: Prometheus' http_sd_configs source (Prometheus 2.42 has http_sd since 2.28), so
 * every virtual pod on any node is a target without the lab running. Every 2 s it resolves SD_DNS (the
 * producers' network alias; a dnsrr lookup returns one address per task), asks each new address for its
 * /control/state (name and pod ids) and serves /targets in file_sd's shape — the same labels the producers
 * write to their file_sd files. A task that drops out of DNS stays a target (Prometheus then sees it down,
 * as it should a partitioned pod: measured, `docker network disconnect` removes the task's DNS record and a
 * reconnect does not restore it) until it is absent for SD_FORGET_MS or the lab says POST /forget?container=.
 * A restarted producer (same name, new address) replaces its old entry.
 */
export const SD_SCRIPT = `
const http = require('node:http');
const dns = require('node:dns').promises;
const name = process.env.SD_DNS || 'producer';
const port = Number(process.env.SD_PRODUCER_PORT || 9100);
const forgetMs = Number(process.env.SD_FORGET_MS || 600000);
const known = new Map();
function getJson(ip, path) {
  return new Promise((resolve) => {
    const req = http.get({ host: ip, port, path, timeout: 1500 }, (res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => { try { resolve(JSON.parse(body)); } catch { resolve(null); } });
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
  });
}
async function refresh() {
  const ips = await dns.resolve4(name).catch(() => []);
  const now = Date.now();
  await Promise.all(ips.map(async (ip) => {
    const k = known.get(ip);
    if (k) { k.missingSince = null; return; }
    const st = await getJson(ip, '/control/state');
    if (!st || typeof st.name !== 'string' || !Array.isArray(st.pods)) return;
    for (const [other, v] of known) if (v.name === st.name && other !== ip) known.delete(other);
    known.set(ip, { name: st.name, pods: st.pods, missingSince: null });
  }));
  for (const [ip, v] of known) {
    if (ips.includes(ip)) continue;
    v.missingSince = v.missingSince ?? now;
    if (now - v.missingSince > forgetMs) known.delete(ip);
  }
}
function targets() {
  const out = [];
  for (const [ip, v] of known)
    for (const pod of v.pods) out.push({ targets: [ip + ':' + port], labels: { __metrics_path__: '/pods/' + pod + '/metrics', pod, container: v.name } });
  return out;
}
let busy = false;
setInterval(() => { if (busy) return; busy = true; refresh().finally(() => { busy = false; }); }, 2000);
http.createServer((req, res) => {
  const u = new URL(req.url, 'http://x');
  if (u.pathname === '/targets') { res.setHeader('content-type', 'application/json'); res.end(JSON.stringify(targets())); return; }
  if (u.pathname === '/forget' && req.method === 'POST') {
    const c = u.searchParams.get('container');
    for (const [ip, v] of known) if (v.name === c) known.delete(ip);
    res.end('ok'); return;
  }
  if (u.pathname === '/healthz') { res.end('ok'); return; }
  res.writeHead(404); res.end();
}).listen(Number(process.env.SD_PORT || 8080), () => console.log(JSON.stringify({ msg: 'listening' })));
process.on('SIGTERM', () => process.exit(0));
`;

/**
 * The clock probe, one task per node (a global one-shot service): five exchanges with the proxy's /clock
 * (the manager host's clock), each printed as one JSON line the lab reads back from the service's logs.
 * CLOCK_NODE is the node's hostname (a swarm template, {{.Node.Hostname}}).
 */
export const CLOCK_SCRIPT = `
const http = require('node:http');
const url = process.env.CLOCK_URL;
const node = process.env.CLOCK_NODE;
function once() {
  return new Promise((resolve) => {
    const sentMs = Date.now();
    http.get(url, { timeout: 3000 }, (res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ clock: 1, node, sentMs, receivedMs: Date.now(), managerMs: Number(body) }));
    }).on('error', () => resolve(null));
  });
}
(async () => {
  for (let i = 0; i < 5; i++) { const s = await once(); if (s) console.log(JSON.stringify(s)); }
})();
`;

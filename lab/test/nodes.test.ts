// `nodes up N` / `nodes down`: the pure plan (names, addresses, commands), the subnet checks, the state file,
// and the CLI's refusals that happen before anything on the host is touched. The real thing (namespaces,
// dockerds, a swarm) is exercised by nodes.docker.test.ts.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isLabError } from '@pushpull/common';
import { runCli } from '../src/commands/index.ts';
import { mountsUnder, pidsUsing } from '../src/nodes/down.ts';
import { faultCommand, type NodeFault, workerOf } from '../src/nodes/faults.ts';
import {
  DEFAULT_SUBNET,
  DOCKER_DEFAULT_POOLS,
  daemonCommand,
  networkCommands,
  overlaps,
  parseCidr,
  planNodes,
  routeDestinations,
  subnetClashes,
} from '../src/nodes/plan.ts';
import { newState, readNodesState, removeNodesState, writeNodesState } from '../src/nodes/state.ts';

const tmp = mkdtempSync(join(tmpdir(), 'pushpull-nodes-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function io() {
  let out = '';
  let err = '';
  return {
    io: {
      out: (s: string) => {
        out += s;
      },
      err: (s: string) => {
        err += s;
      },
      isTTY: false,
      env: {},
    },
    out: () => out,
    err: () => err,
  };
}

describe('nodes plan', () => {
  it('names, addresses and paths per worker', () => {
    const p = planNodes(2, '198.18.231.0/24', '/var/lib/x', '/run/x');
    assert.equal(p.bridge, 'pplbr0');
    assert.equal(p.bridgeAddress, '198.18.231.1');
    assert.deepEqual(
      p.workers.map((w) => [w.netns, w.vethHost, w.vethNode, w.address, w.bip]),
      [
        ['pushpull-n1', 'pplv1', 'pplv1n', '198.18.231.11', '10.232.1.1/24'],
        ['pushpull-n2', 'pplv2', 'pplv2n', '198.18.231.12', '10.232.2.1/24'],
      ],
    );
    assert.deepEqual(
      [p.workers[0]!.dataRoot, p.workers[0]!.execRoot, p.workers[0]!.pidfile, p.workers[0]!.socket],
      ['/var/lib/x/n1/data', '/run/x/n1', '/run/x/n1.pid', '/run/x/n1.sock'],
    );
    // Interface names fit the kernel's 15 characters.
    for (const w of p.workers) assert.ok(w.vethNode.length <= 15 && w.vethHost.length <= 15);
  });

  it('canonicalises the subnet (host bits cleared)', () => {
    assert.equal(planNodes(1, '198.18.231.77/24', '/d', '/r').subnet, '198.18.231.0/24');
    assert.equal(planNodes(1, '198.19.0.0/16', '/d', '/r').workers[0]!.address, '198.19.0.11');
  });

  const bad: [string, number, string, RegExp][] = [
    ['N = 0', 0, DEFAULT_SUBNET, /N must be a whole number from 1 to 8.*got "0"/],
    ['N < 0', -2, DEFAULT_SUBNET, /got "-2"/],
    ['N not a number', Number.NaN, DEFAULT_SUBNET, /got "NaN"/],
    ['N too large', 9, DEFAULT_SUBNET, /got "9"/],
    ['subnet not a CIDR', 1, '198.18.231.0', /--subnet "198.18.231.0" is not an IPv4 CIDR/],
    ['subnet octet > 255', 1, '300.1.1.0/24', /"300.1.1.0\/24"/],
    ['subnet too small', 1, '198.18.231.0/29', /use a \/16 to \/27/],
    ['subnet too large', 1, '198.0.0.0/8', /use a \/16 to \/27/],
  ];
  for (const [name, n, subnet, re] of bad)
    it(`refuses ${name}`, () =>
      assert.throws(
        () => planNodes(n, subnet, '/d', '/r'),
        (e) => isLabError(e, 'LAB_ERR_FLAG_VALUE') && re.test(e.message),
      ));

  it('network commands: bridge, one FORWARD rule, then each namespace and veth', () => {
    const cmds = networkCommands(planNodes(1, DEFAULT_SUBNET, '/d', '/r')).map((c) => c.join(' '));
    assert.deepEqual(cmds, [
      'ip link add pplbr0 type bridge',
      'ip addr add 198.18.231.1/24 dev pplbr0',
      'ip link set pplbr0 up',
      'iptables -I FORWARD 1 -i pplbr0 -o pplbr0 -m comment --comment pushpull-lab-nodes -j ACCEPT',
      'ip netns add pushpull-n1',
      'ip link add pplv1 type veth peer name pplv1n',
      'ip link set pplv1 master pplbr0',
      'ip link set pplv1 up',
      'ip link set pplv1n netns pushpull-n1',
      'ip -n pushpull-n1 addr add 198.18.231.11/24 dev pplv1n',
      'ip -n pushpull-n1 link set pplv1n up',
      'ip -n pushpull-n1 link set lo up',
    ]);
  });

  it('the daemon runs under nsenter --net with its own roots, pidfile, socket and bip', () => {
    const w = planNodes(1, DEFAULT_SUBNET, '/d', '/r').workers[0]!;
    assert.deepEqual(daemonCommand(w).slice(0, 3), ['nsenter', '--net=/run/netns/pushpull-n1', 'dockerd']);
    const a = daemonCommand(w).join(' ');
    for (const part of [
      '--data-root /d/n1/data',
      '--exec-root /r/n1',
      '--pidfile /r/n1.pid',
      '-H unix:///r/n1.sock',
      '--bip 10.232.1.1/24',
    ])
      assert.ok(a.includes(part), `${part} in ${a}`);
  });
});

describe('nodes subnet checks', () => {
  const cases: [string, string, boolean][] = [
    ['198.18.231.0/24', '198.18.231.0/24', true],
    ['198.18.231.0/24', '198.18.0.0/15', true],
    ['198.18.231.0/24', '198.18.232.0/24', false],
    ['10.232.0.0/16', '10.0.0.0/8', true],
    ['192.0.2.2/32', '192.0.2.0/24', true],
    ['172.17.0.0/16', '198.18.231.0/24', false],
  ];
  for (const [a, b, want] of cases) it(`${a} vs ${b}: ${want}`, () => assert.equal(overlaps(a, b), want));

  it('route destinations from `ip -4 route show table all` (default skipped, local/broadcast typed)', () => {
    const out = [
      'default via 192.0.2.1 dev eth0',
      '172.17.0.0/16 dev docker0 proto kernel scope link src 172.17.0.1 linkdown',
      '192.0.2.0/24 dev eth0 proto kernel scope link src 192.0.2.2',
      'local 127.0.0.1 dev lo table local proto kernel scope host src 127.0.0.1',
      'broadcast 192.0.2.255 dev eth0 table local proto kernel scope link src 192.0.2.2',
      '',
    ].join('\n');
    assert.deepEqual(routeDestinations(out), [
      '172.17.0.0/16',
      '192.0.2.0/24',
      '127.0.0.1/32',
      '192.0.2.255/32',
    ]);
  });

  it('clashes name the route or pool; the default subnet is outside Docker’s default pools', () => {
    assert.deepEqual(subnetClashes(DEFAULT_SUBNET, ['192.0.2.0/24'], DOCKER_DEFAULT_POOLS), []);
    assert.deepEqual(subnetClashes('192.0.2.0/24', ['192.0.2.0/24'], []), ['a route to 192.0.2.0/24 exists']);
    assert.deepEqual(subnetClashes('172.20.0.0/16', [], DOCKER_DEFAULT_POOLS), [
      "Docker's address pool or network 172.16.0.0/12 covers it",
    ]);
    assert.equal(parseCidr('198.18.231.9/24').prefix, 24);
  });
});

describe('nodes state file', () => {
  it('round-trips and is removed', () => {
    const path = join(tmp, 'rt', 'nodes.json');
    const s = newState(planNodes(2, DEFAULT_SUBNET, '/d', '/r'));
    s.pids['1'] = 1234;
    s.nodeIds['2'] = 'abc';
    s.swarmInitiated = true;
    writeNodesState(path, s);
    const back = readNodesState(path);
    assert.deepEqual({ ...back, savedAt: '' }, { ...s, savedAt: '' });
    removeNodesState(path);
    assert.equal(readNodesState(path), null);
  });

  const broken: [string, string, RegExp][] = [
    ['not JSON', '{', /is not valid JSON/],
    ['another format', '{"version":2}', /not a nodes state file/],
  ];
  for (const [name, text, re] of broken)
    it(`refuses a state file that is ${name}, naming its path`, () => {
      const path = join(tmp, `bad-${name.replace(/\W/g, '')}.json`);
      writeFileSync(path, text);
      assert.throws(
        () => readNodesState(path),
        (e) => isLabError(e, 'LAB_ERR_CONFIG') && re.test(e.message) && e.message.includes(path),
      );
    });
});

describe('nodes down helpers', () => {
  it('finds the processes naming an exec root (dockerd, containerd, shims), not others', () => {
    const proc = join(tmp, 'proc');
    const cmd = (pid: number, args: string[]) => {
      mkdirSync(join(proc, String(pid)), { recursive: true });
      writeFileSync(join(proc, String(pid), 'cmdline'), `${args.join('\0')}\0`);
    };
    cmd(10, ['dockerd', '--exec-root', '/r/n1', '-H', 'unix:///r/n1.sock']);
    cmd(11, ['containerd', '--config', '/r/n1/containerd/containerd.toml']);
    cmd(12, ['containerd-shim-runc-v2', '-address', '/r/n1/containerd/containerd.sock']);
    cmd(13, ['dockerd', '--exec-root', '/r/n10']);
    cmd(14, ['dockerd']);
    mkdirSync(join(proc, 'self'), { recursive: true });
    assert.deepEqual(pidsUsing('/r/n1', proc).sort(), [10, 11, 12]);
  });

  it('mount points under the roots, deepest first', () => {
    const mi = [
      '22 1 8:0 / / rw - ext4 /dev/vda rw',
      '30 22 0:50 / /d/n1/data/overlay2/abc/merged rw - overlay overlay rw',
      '31 22 0:4 / /r/n1/netns/x rw - nsfs nsfs rw',
      '32 22 0:51 / /d/n10/data rw - overlay overlay rw',
      '33 22 0:52 / /d/n1/data rw - ext4 /dev/vda rw',
    ].join('\n');
    assert.deepEqual(mountsUnder(mi, ['/d/n1/data', '/r/n1']), [
      '/d/n1/data/overlay2/abc/merged',
      '/r/n1/netns/x',
      '/d/n1/data',
    ]);
  });
});

describe('nodes CLI refusals (nothing touched)', () => {
  const refusals: [string, string[], RegExp][] = [
    ['N < 1', ['nodes', 'up', '0'], /N must be a whole number from 1 to 8.*got "0"/],
    ['N not a number', ['nodes', 'up', 'two'], /got "NaN"/],
    [
      'a bad action',
      ['nodes', 'sideways'],
      /expected `up N`, `down` or `partition\|heal\|lose I`, got "sideways"/,
    ],
    ['a bad subnet', ['nodes', 'up', '1', '--subnet', 'x'], /--subnet "x" is not an IPv4 CIDR/],
  ];
  for (const [name, argv, re] of refusals)
    it(`refuses ${name} with exit 2`, async () => {
      const t = io();
      const code = await runCli([...argv, '--dir', join(tmp, 'cli')], t.io);
      assert.equal(code, 2, t.err());
      assert.match(t.err(), re);
    });

  it('a node fault without nodes recorded: a clear error naming the state file', async () => {
    const t = io();
    assert.equal(await runCli(['nodes', 'partition', '1', '--dir', join(tmp, 'none')], t.io), 1);
    assert.match(t.err(), /no nodes recorded in .*none\/nodes\.json: run `nodes up N` first/);
  });

  it('down without a state file removes nothing and says so', async () => {
    const t = io();
    assert.equal(await runCli(['nodes', 'down', '--dir', join(tmp, 'none')], t.io), 0);
    assert.match(t.out(), /nothing to remove/);
  });

  it('up while an earlier up is recorded says so and stops', async (ctx) => {
    if (process.getuid?.() !== 0) return ctx.skip('needs root (the root check comes first)');
    const dir = join(tmp, 'earlier');
    writeNodesState(join(dir, 'nodes.json'), newState(planNodes(2, DEFAULT_SUBNET, dir, '/r')));
    const t = io();
    assert.equal(await runCli(['nodes', 'up', '1', '--dir', dir], t.io), 1);
    assert.match(
      t.err(),
      /nodes from an earlier `nodes up` exist \(2 worker\(s\) on 198.18.231.0\/24.*nodes down/,
    );
  });
});

describe('node faults: what each runs on which worker', () => {
  const state = newState(planNodes(2, DEFAULT_SUBNET, '/d', '/r'));
  state.pids = { '1': 4101, '2': 4102 };
  const cases: [NodeFault, string, object][] = [
    ['partition', '2', { argv: ['ip', '-n', 'pushpull-n2', 'link', 'set', 'pplv2n', 'down'] }],
    ['heal', '2', { argv: ['ip', '-n', 'pushpull-n2', 'link', 'set', 'pplv2n', 'up'] }],
    ['lose', '1', { killPid: 4101 }],
  ];
  for (const [fault, index, want] of cases)
    it(`${fault} ${index}`, () => assert.deepEqual(faultCommand(fault, workerOf(state, index), state), want));
  it('an unknown worker is refused naming the workers', () =>
    assert.throws(() => workerOf(state, '3'), /no worker "3" \(workers: 1, 2\)/));
  it('lose without a recorded pid is refused', () => {
    const s = { ...state, pids: {} };
    assert.throws(() => faultCommand('lose', workerOf(s, '1'), s), /worker 1 has no recorded dockerd pid/);
  });
});

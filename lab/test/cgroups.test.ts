import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { defaultPlan, resolvePlan } from '../src/core/resources.ts';
import { detectLayout, keyValues } from '../src/runtime/cgroups/layout.ts';
import { CgroupManager, reapCgroups } from '../src/runtime/cgroups/manager.ts';

const GiB = 2 ** 30;
const host = { cores: 2, memoryBytes: 24 * GiB };

// This machine mounts cgroup v1; v2 is exercised against a fixture tree (plain directories and files that
// stand in for a cgroup2 mount): the paths the manager writes and the files it reads.
const V1_MOUNTS = `tmpfs /sys/fs/cgroup tmpfs rw 0 0
cgroup /sys/fs/cgroup/cpu cgroup rw,relatime,cpu 0 0
cgroup /sys/fs/cgroup/cpuacct cgroup rw,relatime,cpuacct 0 0
cgroup /sys/fs/cgroup/cpuset cgroup rw,relatime,cpuset 0 0
cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0
cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0`;
const V1_SELF = `4:memory:/process_api/abc
3:cpuset:/
2:cpuacct:/
1:cpu:/
0::/`;

describe('cgroup layout', () => {
  it('v1 (this machine): one dir per controller, under the lab own group', () => {
    const l = detectLayout(V1_MOUNTS, V1_SELF);
    assert.deepEqual(l, {
      version: 1,
      own: {
        cpu: '/sys/fs/cgroup/cpu',
        cpuacct: '/sys/fs/cgroup/cpuacct',
        cpuset: '/sys/fs/cgroup/cpuset',
        memory: '/sys/fs/cgroup/memory/process_api/abc',
      },
    });
  });
  it('v1 with cpu,cpuacct co-mounted', () => {
    const l = detectLayout(
      'cgroup /c/cpu,cpuacct cgroup rw,cpu,cpuacct 0 0\ncgroup /c/cpuset cgroup rw,cpuset 0 0\ncgroup /c/memory cgroup rw,memory 0 0',
      '2:cpu,cpuacct:/a\n3:cpuset:/\n4:memory:/a',
    );
    assert.equal(l?.version, 1);
    assert.equal(l?.version === 1 && l.own.cpuacct, '/c/cpu,cpuacct/a');
  });
  it('v2: the unified mount and the 0:: line', () => {
    assert.deepEqual(detectLayout('cgroup2 /sys/fs/cgroup cgroup2 rw 0 0', '0::/user.slice/lab'), {
      version: 2,
      own: '/sys/fs/cgroup/user.slice/lab',
    });
  });
  it('none: null', () => assert.equal(detectLayout('proc /proc proc rw 0 0', '0::/'), null));
  it('key/value files', () =>
    assert.deepEqual(keyValues('nr_periods 10\nnr_throttled 4\nbad line here\n'), {
      nr_periods: 10,
      nr_throttled: 4,
    }));
});

describe('cgroup v2 manager against a fixture tree', () => {
  const root = mkdtempSync(join(tmpdir(), 'pushpull-cg2-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  const own = join(root, 'lab.scope');
  mkdirSync(own);
  const sources = { mounts: `cgroup2 ${root} cgroup2 rw 0 0`, selfCgroup: '0::/lab.scope' };
  const plan = resolvePlan({ cpus: 'collector=0.2' }, host);
  const m = CgroupManager.open('r1', plan, sources);
  const run = join(own, 'pushpull-lab-r1');
  const f = (...p: string[]) => readFileSync(join(run, ...p), 'utf8');

  it('creates the run group, enables the controllers, writes each limit', () => {
    assert.equal(m.enforcedBy.collector, 'cgroup-v2');
    assert.equal(readFileSync(join(own, 'cgroup.subtree_control'), 'utf8'), '+cpu +cpuset +memory');
    assert.equal(f('cgroup.subtree_control'), '+cpu +cpuset +memory');
    assert.equal(f('collector', 'cpu.max'), '20000 100000');
    assert.equal(f('collector', 'cpuset.cpus'), '1');
    assert.equal(f('collector', 'memory.max'), String(defaultPlan(host).collector.memoryBytes));
    assert.equal(f('producers', 'cpuset.cpus'), '0');
    assert.equal(f('cpu.weight'), '800', 'the run group weighs as the processes it holds, not as one');
  });
  it('adds a pid to its component', () => {
    assert.equal(m.add('producers', 4242), true);
    assert.equal(f('producers', 'cgroup.procs'), '4242');
  });
  it('reads cpu.stat, memory.current/peak/max and memory.events', () => {
    const d = join(run, 'collector');
    writeFileSync(
      join(d, 'cpu.stat'),
      'usage_usec 2500000\nuser_usec 2000000\nnr_periods 50\nnr_throttled 30\n',
    );
    writeFileSync(join(d, 'memory.current'), '1048576\n');
    writeFileSync(join(d, 'memory.peak'), '2097152\n');
    writeFileSync(join(d, 'memory.events'), 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n');
    assert.deepEqual(m.stats().collector, {
      cpuSeconds: 2.5,
      nrPeriods: 50,
      nrThrottled: 30,
      memoryBytes: 1048576,
      memoryPeakBytes: 2097152,
      memoryLimitBytes: defaultPlan(host).collector.memoryBytes,
      oomKills: 1,
    });
  });
  it('the reaper takes a run that is not kept, and leaves a kept one', () => {
    const left = join(own, 'pushpull-lab-old');
    mkdirSync(join(left, 'collector'), { recursive: true });
    assert.deepEqual(reapCgroups(['r1'], sources), [left]);
    assert.deepEqual(reapCgroups(['r1'], sources), []);
  });
  it('without a hierarchy: every component unenforced, with the reason', () => {
    const none = CgroupManager.open('r2', plan, { mounts: '', selfCgroup: '' });
    assert.equal(none.enforcedBy.collector, 'unenforced');
    assert.match(none.notes.collector ?? '', /no cgroup/);
    assert.equal(none.add('collector', 1), false);
  });
  it('without permission: unenforced, never a throw', () => {
    const ro = CgroupManager.open('r3', plan, {
      mounts: `cgroup2 ${join(root, 'missing')} cgroup2 rw 0 0`,
      selfCgroup: '0::/x',
    });
    assert.equal(ro.enforcedBy.prometheus, 'unenforced');
    assert.match(ro.notes.prometheus ?? '', /cannot create the run's cgroup/);
  });
});

describe('cgroup v1 manager against a fixture tree', () => {
  const root = mkdtempSync(join(tmpdir(), 'pushpull-cg1-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  for (const c of ['cpu', 'cpuacct', 'cpuset', 'memory']) mkdirSync(join(root, c));
  writeFileSync(join(root, 'cpuset', 'cpuset.cpus'), '0-1');
  writeFileSync(join(root, 'cpuset', 'cpuset.mems'), '0');
  const sources = {
    mounts: ['cpu', 'cpuacct', 'cpuset', 'memory']
      .map((c) => `cgroup ${join(root, c)} cgroup rw,${c} 0 0`)
      .join('\n'),
    selfCgroup: '4:memory:/\n3:cpuset:/\n2:cpuacct:/\n1:cpu:/',
  };
  const m = CgroupManager.open('r1', resolvePlan({ cpus: 'collector=0.2' }, host), sources);
  const at = (...p: string[]) => readFileSync(join(root, ...p), 'utf8');

  it('cpuset.mems and cpuset.cpus on the run group and each component before any process joins', () => {
    assert.equal(m.enforcedBy.collector, 'cgroup-v1');
    assert.equal(at('cpuset', 'pushpull-lab-r1', 'cpuset.mems'), '0');
    assert.equal(at('cpuset', 'pushpull-lab-r1', 'cpuset.cpus'), '0-1');
    assert.equal(at('cpuset', 'pushpull-lab-r1', 'collector', 'cpuset.mems'), '0');
    assert.equal(at('cpuset', 'pushpull-lab-r1', 'collector', 'cpuset.cpus'), '1');
    assert.equal(at('cpuset', 'pushpull-lab-r1', 'producers', 'cpuset.cpus'), '0');
  });
  it('the CFS quota from the cores, the memory limit from the plan', () => {
    assert.equal(at('cpu', 'pushpull-lab-r1', 'collector', 'cpu.cfs_period_us'), '100000');
    assert.equal(at('cpu', 'pushpull-lab-r1', 'collector', 'cpu.cfs_quota_us'), '20000');
    assert.equal(at('cpu', 'pushpull-lab-r1', 'prometheus', 'cpu.cfs_quota_us'), '45000');
    assert.equal(at('cpu', 'pushpull-lab-r1', 'cpu.shares'), '8192', 'the run group weighs as ~8 processes');
    assert.equal(
      at('memory', 'pushpull-lab-r1', 'collector', 'memory.limit_in_bytes'),
      String(defaultPlan(host).collector.memoryBytes),
    );
  });
  it('a pid joins its component in every controller', () => {
    assert.equal(m.add('collector', 777), true);
    for (const c of ['cpu', 'cpuacct', 'cpuset', 'memory'])
      assert.equal(at(c, 'pushpull-lab-r1', 'collector', 'cgroup.procs'), '777');
  });
  it('reads cpu.stat, cpuacct.usage and the memory files', () => {
    const d = (c: string) => join(root, c, 'pushpull-lab-r1', 'collector');
    writeFileSync(join(d('cpu'), 'cpu.stat'), 'nr_periods 32\nnr_throttled 30\nthrottled_time 1\n');
    writeFileSync(join(d('cpuacct'), 'cpuacct.usage'), '1500000000\n');
    writeFileSync(join(d('memory'), 'memory.usage_in_bytes'), '4096\n');
    writeFileSync(join(d('memory'), 'memory.max_usage_in_bytes'), '8192\n');
    writeFileSync(join(d('memory'), 'memory.oom_control'), 'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n');
    const st = m.stats().collector;
    assert.deepEqual(
      [st?.cpuSeconds, st?.nrPeriods, st?.nrThrottled, st?.memoryBytes, st?.memoryPeakBytes, st?.oomKills],
      [1.5, 32, 30, 4096, 8192, 2],
    );
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { containerPorts, demuxStdout, isLeftover, producerArgs } from '../src/runtime/docker/runtime.ts';

describe('docker runtime (pure parts)', () => {
  it('reaps only runs that are neither kept nor owned by a live lab process', () => {
    assert.equal(isLeftover({ 'pushpull.lab': 'r1', 'pushpull.lab.owner': String(process.pid) }, []), false);
    assert.equal(isLeftover({ 'pushpull.lab': 'r1', 'pushpull.lab.owner': '999999999' }, []), true);
    assert.equal(isLeftover({ 'pushpull.lab': 'r1', 'pushpull.lab.owner': '999999999' }, ['r1']), false);
    assert.equal(isLeftover({ 'pushpull.lab': 'r2' }, []), true, 'no owner label: an old run');
  });
  it('maps compose port entries to container ports', () => {
    assert.deepEqual(containerPorts(['127.0.0.1:8125:8125/udp', '127.0.0.1:9102:9102']), [
      '8125/udp',
      '9102/tcp',
    ]);
    assert.deepEqual(containerPorts(undefined), []);
  });
  it('gives producers the process runtime flags, listening on the container port', () => {
    const a = producerArgs(
      'producer-1',
      7,
      {
        podsPerProducer: 10,
        seed: 3,
        pushMode: 'aggregated',
        jitter: false,
        transport: 'tcp',
        heartbeatMs: 0,
        flushIntervalMs: 2000,
        fleetPods: 1400,
      },
      'collector:8125',
      '/sd',
    );
    const flag = (f: string) => a[a.indexOf(f) + 1];
    assert.equal(flag('--http'), '0.0.0.0:9100');
    assert.equal(flag('--pods'), '7');
    assert.equal(flag('--statsd'), 'tcp://collector:8125');
    assert.equal(flag('--jitter'), 'off');
    assert.equal(flag('--heartbeat'), 'off');
    assert.equal(flag('--sd-dir'), '/sd');
  });
  it('demultiplexes stdout frames from docker logs', () => {
    const frame = (stream: number, text: string) => {
      const body = Buffer.from(text);
      const h = Buffer.alloc(8);
      h[0] = stream;
      h.writeUInt32BE(body.length, 4);
      return Buffer.concat([h, body]);
    };
    assert.equal(demuxStdout(Buffer.concat([frame(1, 'a\n'), frame(2, 'err\n'), frame(1, 'b\n')])), 'a\nb\n');
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isLabError, ManualClock } from '@pushpull/common';
import {
  type ControlState,
  type Producer,
  parsePushRequest,
  parseScheduleRequest,
  validateProfile,
} from '../src/index.ts';
import { type ErrorBody, MINI_PROFILE, request, startSinkedProducer, T0, type UdpSink } from './helpers.ts';

// Hostile control bodies (issue 11, item 5 and the fastify hardening): every one answers a 4xx naming what
// is wrong, the process stays up and the workload is untouched.

const DEPTH = 100_000;
const DEEP = `${'['.repeat(DEPTH)}${']'.repeat(DEPTH)}`;
const DEEP_OBJECT = `${'{"a":'.repeat(DEPTH)}1${'}'.repeat(DEPTH)}`;

const PROFILE = MINI_PROFILE;

describe('pure validators on deeply nested values', () => {
  const deep = JSON.parse(DEEP) as unknown;
  const cases: [string, () => unknown, string | null][] = [
    ['push body', () => parsePushRequest(deep), null],
    ['push mode', () => parsePushRequest({ mode: deep }), 'mode'],
    ['push heartbeatMs', () => parsePushRequest({ heartbeatMs: deep }), 'heartbeatMs'],
    ['schedule body', () => parseScheduleRequest(deep, T0), null],
    ['schedule startAtMs', () => parseScheduleRequest({ startAtMs: deep }, T0), 'startAtMs'],
    ['schedule profile', () => parseScheduleRequest({ startAtMs: T0, profile: deep }, T0), 'profile'],
  ];
  for (const [what, fn, field] of cases) {
    it(`${what}: a LabError naming ${field ?? 'the body'}, not a stack overflow`, () => {
      assert.throws(fn, (e: unknown) => {
        assert.ok(isLabError(e, 'LAB_ERR_CONTROL'), String(e));
        assert.equal(e.details?.field, field);
        assert.match(e.message, /an array/);
        assert.ok(e.message.length < 300, e.message);
        return true;
      });
    });
  }

  it('validateProfile describes a deep value instead of printing it', () => {
    assert.throws(
      () => validateProfile({ name: deep }),
      (e: unknown) => isLabError(e, 'LAB_ERR_PROFILE') && /profile\.name: an array/.test(e.message),
    );
  });
});

describe('control API with hostile bodies', () => {
  let p: Producer;
  let base: string;
  let sink: UdpSink;
  const clock = new ManualClock(T0);

  before(async () => {
    ({ p, base, sink } = await startSinkedProducer({ pods: 2, name: 'lim', clock }));
    clock.advance(500);
    p.tick();
  });

  after(async () => {
    await p.stop();
    await sink.close();
  });

  async function expectRejected(route: string, body: string, status: number, field: string | null) {
    const stateBefore = (await request(base, 'GET', '/control/state')).json<ControlState>();
    const ledgerBefore = (await request(base, 'GET', '/control/ledger')).text;
    const r = await request(base, 'POST', `/control/${route}`, body);
    assert.equal(r.status, status, r.text.slice(0, 300));
    const e = r.json<ErrorBody>().error;
    assert.equal(e.code, 'LAB_ERR_CONTROL');
    assert.equal(e.field, field);
    assert.ok(e.message.length < 300, 'the message describes the value instead of echoing it');
    assert.deepEqual((await request(base, 'GET', '/control/state')).json<ControlState>(), stateBefore);
    assert.equal((await request(base, 'GET', '/control/ledger')).text, ledgerBefore);
    assert.equal((await request(base, 'GET', '/healthz')).status, 200, 'the process is still up');
    return e;
  }

  for (const route of ['push', 'schedule']) {
    it(`POST /control/${route} with '['*${DEPTH} + ']'*${DEPTH} -> 400 naming the body`, async () => {
      const e = await expectRejected(route, DEEP, 400, null);
      assert.match(e.message, /JSON object/);
    });

    it(`POST /control/${route} with a ${DEPTH}-deep object -> 400, not 500`, async () => {
      const prefix = route === 'schedule' ? `{"startAtMs":${T0 + 1000},"deep":` : '{"deep":';
      const e = await expectRejected(route, `${prefix}${DEEP_OBJECT}}`, 400, 'deep');
      assert.match(e.message, /unknown field/);
    });
  }

  it('a deep value inside a known field -> 400 naming that field', async () => {
    const e = await expectRejected('push', `{"mode":${DEEP}}`, 400, 'mode');
    assert.match(e.message, /^mode: /);
    const s = await expectRejected(
      'schedule',
      `{"startAtMs":${T0 + 1000},"profile":${JSON.stringify(PROFILE).slice(0, -1)},"latency":${DEEP}}}`,
      400,
      'profile.latency',
    );
    assert.match(s.message, /^profile\.latency: /);
  });
});

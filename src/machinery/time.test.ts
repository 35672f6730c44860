import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { microTime, nowRFC3339, rfc3339 } from './time.ts';

test('rfc3339 writes whole seconds, microTime six fractional digits', () => {
  const d = new Date('2026-03-04T05:06:07.891Z');
  assert.equal(rfc3339(d), '2026-03-04T05:06:07Z');
  assert.equal(microTime(d), '2026-03-04T05:06:07.891000Z');
});

test('nowRFC3339 (and rfc3339 without a date) follow the clock across seconds', () => {
  mock.timers.enable({ apis: ['Date'], now: new Date('2026-03-04T05:06:07.100Z') });
  try {
    assert.equal(nowRFC3339(), '2026-03-04T05:06:07Z');
    mock.timers.tick(850);
    assert.equal(rfc3339(), '2026-03-04T05:06:07Z');
    mock.timers.tick(100);
    assert.equal(nowRFC3339(), '2026-03-04T05:06:08Z');
    mock.timers.tick(3_600_000);
    assert.equal(rfc3339(), '2026-03-04T06:06:08Z');
  } finally {
    mock.timers.reset();
  }
});

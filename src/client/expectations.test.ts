import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ControllerExpectations, EXPECTATIONS_TTL_MS, UIDTrackingExpectations } from './expectations.ts';
import { FakeClock } from './clock.ts';

test('no record means satisfied; creations must all be observed', () => {
  const e = new ControllerExpectations({ clock: new FakeClock() });
  assert.equal(e.satisfiedExpectations('ns/rs'), true);
  e.expectCreations('ns/rs', 2);
  assert.equal(e.satisfiedExpectations('ns/rs'), false);
  e.creationObserved('ns/rs');
  assert.equal(e.satisfiedExpectations('ns/rs'), false);
  e.creationObserved('ns/rs');
  assert.equal(e.satisfiedExpectations('ns/rs'), true);
  e.creationObserved('ns/rs');
  assert.equal(e.getExpectations('ns/rs')?.add, -1);
  assert.equal(e.satisfiedExpectations('ns/rs'), true);
});

test('deletions, raise/lower, delete', () => {
  const e = new ControllerExpectations({ clock: new FakeClock() });
  e.expectDeletions('k', 1);
  e.raiseExpectations('k', 1, 0);
  e.deletionObserved('k');
  assert.equal(e.satisfiedExpectations('k'), false);
  e.lowerExpectations('k', 1, 0);
  assert.equal(e.satisfiedExpectations('k'), true);
  e.setExpectations('k', 3, 3);
  e.deleteExpectations('k');
  assert.equal(e.satisfiedExpectations('k'), true);
  assert.equal(e.getExpectations('k'), undefined);
});

test('expectations expire after 5 minutes', () => {
  const clock = new FakeClock();
  const e = new ControllerExpectations({ clock });
  e.expectCreations('k', 5);
  clock.step(EXPECTATIONS_TTL_MS);
  assert.equal(e.satisfiedExpectations('k'), false);
  clock.step(1);
  assert.equal(e.satisfiedExpectations('k'), true);
});

test('UID tracking counts each expected deletion once', () => {
  const e = new UIDTrackingExpectations({ clock: new FakeClock() });
  e.expectDeletionsOf('rs', ['ns/p1', 'ns/p2']);
  e.deletionObservedOf('rs', 'ns/p1');
  e.deletionObservedOf('rs', 'ns/p1');
  e.deletionObservedOf('rs', 'ns/other');
  assert.equal(e.satisfiedExpectations('rs'), false);
  e.deletionObservedOf('rs', 'ns/p2');
  assert.equal(e.satisfiedExpectations('rs'), true);
});

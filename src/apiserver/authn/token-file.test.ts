import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TokenFile, TokenFileError, parseCSV } from './token-file.ts';

test('upstream token file CSV: token,user,uid,"groups"', () => {
  const f = new TokenFile('t1,alice,uid-1,"dev,ops"\nt2,bob,uid-2\n\n  t3 ,carol,uid-3,\n,empty,x\nt2,bob2,uid-9\n');
  assert.deepEqual(f.authenticate('t1'), { name: 'alice', uid: 'uid-1', groups: ['dev', 'ops'] });
  assert.deepEqual(f.authenticate('t2'), { name: 'bob2', uid: 'uid-9', groups: [] }, 'a later duplicate wins');
  // Leading spaces are trimmed (upstream's TrimLeadingSpace), trailing ones are part of the token.
  assert.deepEqual(f.authenticate('t3 '), { name: 'carol', uid: 'uid-3', groups: [] });
  assert.equal(f.authenticate('t3'), undefined);
  assert.equal(f.authenticate('nope'), undefined);
  assert.equal(f.authenticate(''), undefined);
  assert.ok(f.warnings.some((w) => /empty token/.test(w)));
  assert.ok(f.warnings.some((w) => /duplicate token/.test(w)));
  assert.throws(() => new TokenFile('onlytwo,columns\n'), TokenFileError);
  assert.deepEqual(parseCSV('a,"b ""quoted"", c",d\r\ne'), [['a', 'b "quoted", c', 'd'], ['e']]);
  assert.throws(() => parseCSV('"unterminated'), TokenFileError);
});

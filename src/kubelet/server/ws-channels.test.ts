import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Channel, decodeChannelMessage, encodeChannelMessage, negotiate, offeredProtocols, portForwardProtocols, remoteCommandProtocols } from './ws-channels.ts';
import { plainError } from './remote-command.ts';

const proto = (name: string) => remoteCommandProtocols.find((p) => p.name === name)!;

test('the client\'s first supported protocol wins; none offered means binary channel.k8s.io', () => {
  assert.deepEqual(offeredProtocols('v5.channel.k8s.io, v4.channel.k8s.io,channel.k8s.io'), ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'channel.k8s.io']);
  assert.deepEqual(offeredProtocols(['a', 'b, c']), ['a', 'b', 'c']);
  assert.equal(negotiate(['v3.channel.k8s.io', 'v4.base64.channel.k8s.io', 'v5.channel.k8s.io'], remoteCommandProtocols)?.name, 'v4.base64.channel.k8s.io');
  assert.deepEqual(negotiate([], remoteCommandProtocols), { name: '', base64: false, version: 1 });
  assert.equal(negotiate(['v9.channel.k8s.io'], remoteCommandProtocols), undefined);
  assert.equal(negotiate(['v4.channel.k8s.io'], portForwardProtocols)?.version, 4);
});

test('binary messages: a channel byte then the data', () => {
  const p = proto('v5.channel.k8s.io');
  const m = encodeChannelMessage(p, Channel.Stdout, Buffer.from('hi'));
  assert.deepEqual(m, Buffer.from([1, 0x68, 0x69]));
  assert.deepEqual(decodeChannelMessage(p, m as Buffer, true), { channel: 1, data: Buffer.from('hi') });
  assert.deepEqual(decodeChannelMessage(p, Buffer.from([255, 0]), true), { channel: Channel.Close, data: Buffer.from([0]) });
  assert.equal(decodeChannelMessage(p, Buffer.alloc(0), true), undefined);
  assert.deepEqual(encodeChannelMessage(p, Channel.Error, Buffer.alloc(0)), Buffer.from([3]));
});

test('base64 messages: the channel digit then base64 text, both ways', () => {
  const p = proto('v4.base64.channel.k8s.io');
  const bytes = Buffer.from([0xff, 0x00, 0x41]);
  const m = encodeChannelMessage(p, Channel.Stderr, bytes);
  assert.equal(m, '2/wBB');
  assert.deepEqual(decodeChannelMessage(p, Buffer.from('0Zm9vCg=='), false), { channel: 0, data: Buffer.from('foo\n') });
  // Binary frames and invalid base64 are not messages of this protocol.
  assert.equal(decodeChannelMessage(p, Buffer.from('0Zm9v'), true), undefined);
  assert.equal(decodeChannelMessage(p, Buffer.from('0!!!'), false), undefined);
});

test('older protocols read the exit status as plain text', () => {
  assert.equal(plainError(Buffer.from('{"metadata":{},"status":"Success"}')), '');
  assert.equal(plainError(Buffer.from(JSON.stringify({ status: 'Failure', message: 'command terminated with non-zero exit code: exit code 2', reason: 'NonZeroExitCode' }))), 'command terminated with non-zero exit code: exit code 2');
  assert.equal(plainError(Buffer.from('not json')), 'not json');
  assert.equal(plainError(Buffer.alloc(0)), '');
});

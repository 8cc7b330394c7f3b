import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tcpdumpArgs } from './live.ts';

test('tcpdump is asked to read only, without name lookups, with a capture buffer that outlasts a checkpoint', () => {
  const args = tcpdumpArgs({ interface: 'eth1', filter: 'not port 22' });
  assert.deepEqual(args.slice(0, 2), ['-i', 'eth1']);
  assert.ok(args.includes('-n'), 'no DNS lookups of its own');
  assert.equal(args[args.indexOf('-B') + 1], String(64 * 1024), '64 MiB, in KiB');
  assert.equal(args[args.indexOf('-w') + 1], '-');
  assert.equal(args.at(-1), 'not port 22');
  assert.equal(tcpdumpArgs({ interface: 'eth1', bufferMiB: 256 })[tcpdumpArgs({ interface: 'eth1' }).indexOf('-B') + 1], String(256 * 1024));
});

// That the installed tcpdump takes them: test/serve.test.ts captures on the loopback with them.

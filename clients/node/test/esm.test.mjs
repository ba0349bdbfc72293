// The ES module face of bond-client: the same classes as CommonJS's require.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRequire } from 'node:module';
import bond, { Client, RemoteException } from '../index.mjs';

test('import gives what require gives', async () => {
  const required = createRequire(import.meta.url)('..');
  assert.equal(Client, required.Client);
  assert.equal(bond.RemoteException, RemoteException);
  const client = await Client.connect({ socket: process.env.BOND_TEST_SOCKET });
  const js = await client.open('js');
  assert.equal(await js.eval('6 * 7'), 42);
  await client.close();
});

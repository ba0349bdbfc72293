// A TypeScript program against index.d.ts: types.test.js type-checks it with tsc (--strict);
// it is not run.
import { Client, Bond, RemoteException, LimitExceeded, RemoteObject, Ref } from '../index';

async function main(): Promise<number> {
  const client: Client = await Client.connect({ socket: '/run/bond.sock', onOutput: (bond, channel, data) => {} });
  const php: Bond = await client.open('PHP', { timeout: 5, limits: { wall_ms: 1000 }, sandbox: true });
  await php.export('shout', async (text: string) => text.toUpperCase());
  await php.evalBlock('function add($a, $b) { return $a + $b; }');
  const sum: number = await php.call('add', 1, 2);
  const ref: Ref = php.ref('$x');
  const cart: RemoteObject = await php.eval('new Cart()');
  const count: number = await cart.add('apple');
  const items: string[] = await cart.items;
  await cart.$set('items', []);
  const type: string = cart.$type;
  php.on('output', (channel, data) => {});
  try {
    await php.callWith({ limits: { cpu_ms: 10 } }, 'spin');
  } catch (error) {
    if (error instanceof LimitExceeded) return error.limit.length;
    if (error instanceof RemoteException) return String(error.data).length;
  }
  await client.close();
  return sum + count + items.length + type.length + ref.code.length;
}

main();

'use strict';
// bond-client against a real bondd (started by with_bondd.py; a private one where a test needs
// its own): connecting, bonds, output, errors, exports and nesting, remote objects.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { test, describe, before, after } = require('node:test');
const {
  Client, BondException, RemoteException, SerializationException, LimitExceeded, Interrupted,
  TerminatedException, TimeoutException, ProtocolError, findBondd,
} = require('..');

const SOCKET = process.env.BOND_TEST_SOCKET;
// The languages of drivers/registry.json, in its order.
const LANGUAGE_NAMES = JSON.parse(fs.readFileSync(
  path.join(__dirname, '..', '..', '..', 'drivers', 'registry.json'), 'utf8')).languages.map((language) => language.name);

describe('connecting', () => {
  test('a Unix socket', async () => {
    const client = await Client.connect({ socket: SOCKET });
    assert.deepEqual(await client.drivers(), LANGUAGE_NAMES);
    await client.close();
  });

  test('TCP with a token', async () => {
    const client = await Client.connect({ address: process.env.BOND_TEST_ADDRESS, tokenFile: process.env.BOND_TEST_TOKEN_FILE });
    const perl = await client.open('perl');
    assert.equal(await perl.eval('2 ** 10'), 1024);
    await client.close();
    await assert.rejects(Client.connect({ address: process.env.BOND_TEST_ADDRESS, token: 'wrong' }), BondException);
  });

  test('nothing given: a private daemon that ends with the client', async () => {
    assert.equal(findBondd(), process.env.BONDD);
    const client = await Client.connect();
    const daemon = client._daemon;
    const python = await client.open('Python');
    assert.equal(await python.call('len', 'four'), 4);
    await client.close();
    assert.equal(daemon.exitCode, 0);
  });

  test('a missing socket', async () => {
    await assert.rejects(Client.connect({ socket: '/nonexistent/bondd.sock' }), /nonexistent/);
  });
});

describe('bonds', () => {
  let client;
  before(async () => { client = await Client.connect({ socket: SOCKET }); });
  after(() => client.close());

  test('eval, evalBlock, call, callable', async () => {
    const php = await client.open('PHP');
    await php.evalBlock('function add($a, $b) { return $a + $b; }');
    assert.equal(await php.eval('add(1, 2)'), 3);
    assert.equal(await php.call('add', 40, 2), 42);
    const explode = php.callable('explode');
    assert.deepEqual(await explode(' ', 'a b'), ['a', 'b']);
    assert.equal(explode.name, 'explode');
    await php.close();
  });

  test('values: JSON and bytes', async () => {
    const python = await client.open('Python');
    const value = { list: [1, 2.5, null, true], text: 'é\n', nested: { a: [{}] } };
    assert.deepEqual(await python.call('lambda x: x', value), value);
    assert.deepEqual(await python.call("lambda b: b + b'!'", Buffer.from([0, 255])), Buffer.from([0, 255, 33]));
    await python.close();
  });

  test('open options reach the interpreter', async () => {
    const directory = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'bond-node-')));
    const python = await client.open('Python', { cwd: directory, env: { GREETING: 'hi' } });
    assert.equal(await python.eval("__import__('os').getcwd()"), directory);
    assert.equal(await python.eval("__import__('os').environ.get('GREETING')"), 'hi');
    await python.close();
    fs.rmSync(directory, { recursive: true });
  });

  test('export: plain and async functions, nested calls to any depth', async () => {
    const js = await client.open('JavaScript');
    await js.export('upper', (text) => text.toUpperCase());
    await js.export(async function countDown(n) { return n === 0 ? 0 : (await js.call('down', n - 1)) + 1; });
    await js.evalBlock('globalThis.down = n => n == 0 ? 0 : countDown(n)');
    assert.equal(await js.eval("upper('a')"), 'A');
    assert.equal(await js.call('down', 30), 30);
    assert.deepEqual(await js.exports(), ['countDown', 'upper']);
    await js.close();
  });

  test('proxy between bonds, ref', async () => {
    const php = await client.open('PHP');
    const perl = await client.open('Perl');
    await php.proxy('explode', perl);
    assert.deepEqual(await perl.eval('explode("=", "Mind=blown!")'), ['Mind', 'blown!']);
    await perl.evalBlock('our $total = 6;');
    assert.equal(await perl.call('sprintf', '%d!', perl.ref('$total')), '6!');
    await php.close();
    await perl.close();
  });

  test('attach to a named bond', async () => {
    const python = await client.open('Python', { name: 'node-shared' });
    await python.evalBlock('counter = 41');
    const other = await Client.connect({ socket: SOCKET });
    const attached = await other.attach('node-shared');
    assert.equal(attached.lang, 'Python');
    assert.equal(await attached.eval('counter + 1'), 42);
    await other.close();
    await python.close();
  });
});

describe('output', () => {
  let client;
  before(async () => { client = await Client.connect({ socket: SOCKET }); });
  after(() => client.close());

  test('as a callback, before the answer', async () => {
    const seen = [];
    const php = await client.open('PHP', { onOutput: (bond, channel, data) => seen.push([channel, data]) });
    await php.evalBlock('echo "hi\\n"; fwrite(STDERR, "oops");');
    assert.deepEqual(seen, [['stdout', 'hi\n'], ['stderr', 'oops']]);
    await php.close();
  });

  test('as events of the bond', async () => {
    const perl = await client.open('Perl');
    const seen = [];
    perl.on('output', (channel, data) => seen.push([channel, data]));
    await perl.evalBlock('print "x";');
    assert.deepEqual(seen, [['stdout', 'x']]);
    await perl.close();
  });
});

describe('errors', () => {
  let client;
  before(async () => { client = await Client.connect({ socket: SOCKET }); });
  after(() => client.close());

  test('RemoteException, with data', async () => {
    const python = await client.open('Python', { transExcept: true });
    await assert.rejects(python.eval('1/0'), (error) => error instanceof RemoteException
      && error instanceof BondException && error.message === 'ZeroDivisionError: division by zero'
      && error.data.type === 'ZeroDivisionError' && error.lang === 'Python');
    assert.equal(await python.eval('1 + 1'), 2);
    await python.close();
  });

  test('SerializationException, both sides', async () => {
    const python = await client.open('Python');
    await assert.rejects(python.call('id', 10n), (error) => error instanceof SerializationException && error.side === 'local');
    await assert.rejects(python.eval("float('nan')"), (error) => error instanceof SerializationException && error.side === 'remote');
    const circular = {};
    circular.self = circular;
    await assert.rejects(python.call('id', circular), (error) => error instanceof SerializationException && error.side === 'local');
    await python.close();
  });

  test('LimitExceeded names its limit', async () => {
    const python = await client.open('Python');
    await assert.rejects(python.callWith({ limits: { cpu_ms: 300 } }, 'eval', 'sum(i for i in range(10**10))'),
      (error) => error instanceof LimitExceeded && error.limit === 'cpu' && error instanceof RemoteException);
    await python.close();
  });

  test('interrupt', async () => {
    const perl = await client.open('Perl');
    let looping;
    const started = new Promise((resolve) => { looping = resolve; });
    await perl.export('looping', () => { looping(); });
    const running = perl.evalBlock('looping(); while (1) {}');
    await started;
    await perl.interrupt();
    await assert.rejects(running, Interrupted);
    assert.equal(await perl.eval('1 + 2'), 3);
    await perl.close();
  });

  test('a timeout closes the bond', async () => {
    const python = await client.open('Python', { timeout: 0.5 });
    await assert.rejects(python.eval("__import__('time').sleep(60)"), TimeoutException);
    await assert.rejects(python.eval('1'), BondException);
  });

  test('an exported function that throws fails in the remote code; the client goes on', async () => {
    const php = await client.open('PHP');
    await php.export('lookup', async (user) => { throw new RangeError(`no such user: ${user}`); });
    await php.evalBlock("function safe($u) { try { return lookup($u); } catch (Exception $e) { return 'caught: ' . $e->getMessage(); } }");
    assert.equal(await php.call('safe', 'bob'), 'caught: RangeError: no such user: bob');
    await assert.rejects(php.call('lookup', 'eve'), /no such user: eve/);
    assert.equal(await php.eval('1 + 1'), 2);
    await php.close();
  });

  test('code that exits: TerminatedException with its exitStatus', async () => {
    const python = await client.open('Python');
    const exited = await python.evalBlock('import sys\nsys.exit(3)').catch((error) => error);
    assert.ok(exited instanceof TerminatedException);
    assert.equal(exited.exitStatus, 3);
    const later = await python.eval('1').catch((error) => error); // its end was not seen
    assert.ok(later instanceof TerminatedException);
    assert.equal(later.exitStatus, null);
    const killed = await client.open('Python');
    const error = await killed.eval("__import__('os').kill(__import__('os').getpid(), 9)").catch((e) => e);
    assert.ok(error instanceof TerminatedException);
    assert.equal(error.exitStatus, null);
    assert.match(error.message, /was killed by signal 9 \(SIGKILL\)/);
  });

  test('a daemon that goes away mid-call: TerminatedException', async () => {
    const own = await Client.connect();
    const python = await own.open('Python');
    await python.export('kill_the_daemon', () => { own._daemon.kill('SIGKILL'); });
    await assert.rejects(python.evalBlock('kill_the_daemon()\nwhile True:\n    pass'), TerminatedException);
    await assert.rejects(python.eval('1'), TerminatedException);
    await own.close();
  });

  test('an answer that is not JSON closes the connection', async () => {
    const socketPath = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bond-node-')), 'garbage.sock');
    const server = net.createServer((connection) => {
      connection.once('data', () => connection.write('{"jsonrpc":"2.0","method":"output","params":{"bond":"b1","channel":"stdout","data":"kept"}}\n<html>not json</html>\n'));
    });
    await new Promise((resolve) => server.listen(socketPath, resolve));
    const seen = [];
    const bad = await Client.connect({ socket: socketPath, onOutput: (bond, channel, data) => seen.push(data) });
    await assert.rejects(bad.drivers(), (error) => error instanceof ProtocolError && /not JSON-RPC/.test(error.message) && /<html>/.test(error.message));
    assert.deepEqual(seen, ['kept']);
    await assert.rejects(bad.drivers(), ProtocolError);
    await bad.close();
    await new Promise((resolve) => server.close(resolve));
  });
});

describe('remote objects', () => {
  let client;
  before(async () => { client = await Client.connect({ socket: SOCKET }); });
  after(() => client.close());

  test('attributes, methods, calls', async () => {
    const php = await client.open('PHP');
    await php.evalBlock('class Cart { public $items = []; function add($x) { $this->items[] = $x; return count($this->items); } }');
    const cart = await php.eval('new Cart()');
    assert.equal(cart.$type, 'Cart');
    assert.equal(await cart.add('apple'), 1);
    assert.equal(await cart.$call('add', 'pear'), 2);
    assert.deepEqual(await cart.items, ['apple', 'pear']);
    await cart.$set('items', ['fig']);
    assert.deepEqual(await cart.$value(), { items: ['fig'] });
    const byLength = await php.eval('function ($a, $b) { return strlen($a) - strlen($b); }');
    assert.equal(await byLength('aa', 'a'), 1);
    await php.close();
  });

  test('passed back, the code gets the original; released on request', async () => {
    const python = await client.open('Python');
    await python.evalBlock('class Tally:\n    n = 0');
    const tally = await python.eval('Tally()');
    assert.equal(await python.call('lambda a, b: a is b', tally, tally), true);
    await python.call("lambda t: setattr(t, 'n', 5)", tally);
    assert.equal(await tally.n, 5);
    tally.$release();
    await assert.rejects(tally.$value(), /released/);
    await python.close();
  });
});

'use strict';
// A client of bondd, the bond daemon (docs/clients.md): connects (a Unix socket, TCP with a
// token, or a private bondd it starts), frames JSON-RPC lines, matches answers to requests by
// id, serves `invoke` with exported (plain or async) functions and shows `output`. Remote
// objects are Proxies released by a FinalizationRegistry. Node's standard library only.
const { spawn } = require('node:child_process');
const { EventEmitter } = require('node:events');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');

// The exceptions, mirroring the C++ library's (include/bond/errors.hpp).
class BondException extends Error {
  constructor(message, lang = '') {
    super(message);
    this.name = new.target.name;
    this.lang = lang;
  }
}
// exitStatus: the status the interpreter exited with by itself (the code called exit(3): 3);
// null when it was killed, or the daemon or the connection went away.
class TerminatedException extends BondException {
  constructor(message, lang = '', exitStatus = null) {
    super(message, lang);
    this.exitStatus = exitStatus;
  }
}
class TimeoutException extends BondException {}
class ProtocolError extends BondException {}
class SerializationException extends BondException {
  constructor(message, lang = '', side = 'local') {
    super(message, lang);
    this.side = side;
  }
}
class RemoteException extends BondException {
  constructor(message, lang = '', data = undefined) {
    super(message, lang);
    this.data = data === undefined || data === null ? message : data;
  }
}
class Interrupted extends RemoteException {}
class LimitExceeded extends RemoteException {
  constructor(message, lang = '', data = undefined, limit = '') {
    super(message, lang, data);
    this.limit = limit;
  }
}

// The one table from a JSON-RPC error of bondd (docs/daemon.md, Errors) to an exception.
function exceptionFromError(error) {
  const message = error.message || '';
  const data = error.data && typeof error.data === 'object' ? error.data : {};
  const lang = data.lang || '';
  switch (data.type || (error.code === -32000 ? 'RemoteException' : undefined)) {
    case 'RemoteException': return new RemoteException(message, lang, data.data);
    case 'SerializationException': return new SerializationException(message, lang, data.side);
    case 'LimitExceeded': return new LimitExceeded(message, lang, data.data, data.limit);
    case 'Interrupted': return new Interrupted(message, lang, data.data);
    case 'TerminatedException':
      return new TerminatedException(message, lang, Number.isInteger(data.exit_status) ? data.exit_status : null);
    case 'TimeoutException': return new TimeoutException(message, lang);
    default:
      return new BondException(error.code === -32005 || error.code === undefined
        ? message : `${message} (${error.code})`, lang);
  }
}

// Code of a bond's language, evaluated by the bond where it is passed as an argument of call().
class Ref {
  constructor(code) { this.code = code; }
}

// Where bondd listens by default (docs/daemon.md).
function defaultSocketPath() {
  const runtime = process.env.XDG_RUNTIME_DIR;
  return runtime ? path.join(runtime, 'bond', 'bondd.sock')
    : `/tmp/bond-${process.getuid()}/bondd.sock`;
}

// The bondd to start: `program`, else $BONDD, else the source tree's build, else PATH's.
function findBondd(program) {
  if (program) return program;
  if (process.env.BONDD) return process.env.BONDD;
  const candidates = [path.join(__dirname, '..', '..', 'build', 'bondd')];
  for (const directory of (process.env.PATH || '').split(path.delimiter)) {
    if (directory) candidates.push(path.join(directory, 'bondd'));
  }
  for (const candidate of candidates) {
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return path.normalize(candidate);
    } catch { /* not this one */ }
  }
  throw new BondException('bondd was not found: pass {bondd: PATH}, set BONDD, or put bondd on PATH');
}

// A remote object's proxy -> its number (and bond), for encoding and releasing.
const handles = new WeakMap();

function encode(message) {
  return JSON.stringify(message, function tagged(key, value) {
    const original = this[key];
    if (original instanceof Uint8Array) return { $bytes: Buffer.from(original).toString('base64') };
    if (original instanceof Ref) return { $code: original.code };
    if (typeof original === 'function' || (typeof original === 'object' && original !== null)) {
      const handle = handles.get(original);
      if (handle) {
        if (handle.number === null) throw new BondException('the remote object was released');
        return { $object: handle.number };
      }
    }
    return value;
  }) + '\n';
}

const BOND_METHODS = new Set(['eval', 'eval_block', 'call']);

class Client extends EventEmitter {
  // Use Client.connect(options).
  constructor(stream, daemon, onOutput) {
    super();
    this._stream = stream;       // {write(line), reader: a Readable, end()}
    this._daemon = daemon;       // the private bondd's ChildProcess, or null
    this._onOutput = onOutput;
    this._nextId = 1;
    this._pending = new Map();   // id -> {resolve, reject, bond}
    this._bonds = new Map();     // id -> Bond
    this._exports = new Map();   // `${bond}\0${name}` -> function
    this._released = [];         // numbers of remote objects collected, not yet told
    this._ended = null;
    this._partial = [];
    this._objectsOfMessage = [];
    this._registry = new FinalizationRegistry((number) => this._released.push(number));
    stream.reader.on('data', (chunk) => this._receive(chunk));
    stream.reader.on('end', () => this._end(new TerminatedException('bondd closed the connection')));
    stream.reader.on('error', (error) => this._end(new TerminatedException(`the connection to bondd is gone (${error.message})`)));
    stream.unref();              // the process may end while nothing is asked of bondd
  }

  // {socket}: a Unix socket; {address: 'host:port', token | tokenFile}: TCP; nothing: a private
  // bondd ({bondd: PATH}, $BONDD, the source tree's build or PATH), ended with the client.
  // onOutput(bond, channel, data): output of the remote code (default: the 'output' event if
  // there are listeners, else process.stdout and process.stderr).
  static async connect(options = {}) {
    const { socket, address, token, tokenFile, bondd, daemonArgs = [], onOutput } = options;
    let stream;
    let daemon = null;
    let client = null;
    if (socket !== undefined || address !== undefined) {
      const connection = await new Promise((resolve, reject) => {
        let target = { path: socket };
        if (address !== undefined) {
          const at = String(address).lastIndexOf(':');
          target = { host: String(address).slice(0, at).replace(/^\[|\]$/g, ''), port: Number(String(address).slice(at + 1)) };
        }
        const opened = net.createConnection(target, () => resolve(opened));
        opened.once('error', (error) => reject(new BondException(`cannot connect to bondd at ${socket ?? address}: ${error.message}`)));
      });
      connection.setNoDelay(true);
      stream = { reader: connection, write: (line) => connection.write(line), end: () => connection.end(),
        ref: () => connection.ref(), unref: () => connection.unref() };
    } else {
      const program = findBondd(bondd);
      // A process group of its own: the terminal's Ctrl+C is not the daemon's.
      daemon = spawn(program, ['--stdio', '--log-level', 'error', ...daemonArgs],
        { stdio: ['pipe', 'pipe', 'inherit'], detached: true });
      await new Promise((resolve, reject) => {
        daemon.once('spawn', resolve);
        daemon.once('error', (error) => reject(new BondException(`bondd could not be started: ${program}: ${error.message}`)));
      });
      daemon.unref();
      // A daemon that died makes a write fail (EPIPE): the connection is over, as at the end
      // of its output.
      daemon.stdin.on('error', (error) => client?._end(new TerminatedException(`the connection to bondd is gone (${error.message})`)));
      stream = { reader: daemon.stdout, write: (line) => daemon.stdin.write(line), end: () => daemon.stdin.end(),
        ref: () => { daemon.stdout.ref(); daemon.stdin.ref?.(); },
        unref: () => { daemon.stdout.unref(); daemon.stdin.unref?.(); } };
    }
    client = new Client(stream, daemon, onOutput);
    const secret = token ?? (tokenFile ? fs.readFileSync(tokenFile, 'utf8').trimEnd() : undefined);
    if (secret !== undefined) {
      try {
        await client._request('auth', { token: secret });
      } catch (error) {
        await client.close();
        throw error;
      }
    }
    return client;
  }

  // Framing: one JSON message a line.
  _receive(chunk) {
    let start = 0;
    let end;
    while ((end = chunk.indexOf(10, start)) >= 0) {
      let line;
      if (this._partial.length) {
        this._partial.push(chunk.subarray(start, end));
        line = Buffer.concat(this._partial).toString('utf8');
        this._partial = [];
      } else {
        line = chunk.toString('utf8', start, end);
      }
      start = end + 1;
      if (this._ended) return;
      if (line.trim()) this._take(line);
    }
    if (start < chunk.length) this._partial.push(chunk.subarray(start));
  }

  _decode(line) {
    let message;
    try {
      // Tags ({"$bytes"}, {"$object"}) only where the line has a "$" key at all.
      message = line.includes('"$') ? JSON.parse(line, (key, value) => this._untag(value)) : JSON.parse(line);
    } catch (error) {
      message = error;
    }
    if (message === null || typeof message !== 'object' || Array.isArray(message) || message instanceof Error) {
      const shown = JSON.stringify(line.slice(0, 200));
      const reason = message instanceof Error ? message.message : 'not a JSON object';
      throw new ProtocolError(`bondd sent a line that is not JSON-RPC (${reason}): ${shown}; the connection is closed`);
    }
    return message;
  }

  _untag(value) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
    if (typeof value.$object === 'number') {
      const proxy = remoteObject(this, value.$object, value.type || '');
      this._objectsOfMessage.push(proxy);
      return proxy;
    }
    if (typeof value.$bytes === 'string' && Object.keys(value).length === 1) return Buffer.from(value.$bytes, 'base64');
    return value;
  }

  _take(line) {
    let message;
    try {
      message = this._decode(line);
    } catch (error) {
      this._end(error);
      return;
    }
    if (message.method === undefined) {
      const waiting = this._pending.get(message.id);
      if (!waiting) return; // given up
      this._pending.delete(message.id);
      if (this._pending.size === 0) this._stream.unref();
      for (const proxy of this._objectsOfMessage) handles.get(proxy).bond = waiting.bond;
      this._objectsOfMessage = [];
      if (message.error) waiting.reject(exceptionFromError(message.error));
      else waiting.resolve(message.result);
    } else if (message.method === 'output') {
      this._showOutput(message.params || {});
    } else if (message.method === 'invoke') {
      this._serve(message);
    }
  }

  _showOutput({ bond: id, channel, data }) {
    const bond = this._bonds.get(id);
    const handler = (bond && bond._onOutput) || this._onOutput;
    try {
      if (handler) handler(bond || id, channel, data);
      else if ((bond && bond.emit('output', channel, data)) || this.emit('output', bond || id, channel, data)) { /* shown */ }
      else (channel === 'stderr' ? process.stderr : process.stdout).write(data);
    } catch (error) {
      process.stderr.write(`bond-client: the output handler failed: ${error}\n`);
    }
  }

  async _serve(invoke) {
    const { bond, name, args = [] } = invoke.params || {};
    let answer;
    try {
      const fn = this._exports.get(`${bond}\0${name}`);
      if (!fn) throw new BondException(`nothing is exported as ${name}`);
      answer = { result: await fn(...args) };
    } catch (error) {
      const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      answer = { error: { code: -32000, message: text } };
    }
    if (this._ended) return;
    try {
      this._send({ jsonrpc: '2.0', id: invoke.id, ...answer });
    } catch (error) {
      this._send({ jsonrpc: '2.0', id: invoke.id, error: { code: -32001, message: `the result cannot be sent back: ${error.message}` } });
    }
  }

  _send(message) {
    if (this._ended) throw this._ended;
    let line;
    try {
      line = encode(message);
    } catch (error) {
      if (error instanceof BondException) throw error;
      throw new SerializationException(error.message, '', 'local');
    }
    if (this._released.length) {
      const objects = this._released;
      this._released = [];
      this._stream.write(encode({ jsonrpc: '2.0', method: 'release', params: { objects } }));
    }
    this._stream.write(line);
  }

  _request(method, params, bond) {
    return new Promise((resolve, reject) => {
      const id = this._nextId++;
      this._send({ jsonrpc: '2.0', id, method, params });
      if (this._pending.size === 0) this._stream.ref();
      this._pending.set(id, { resolve, reject, bond });
    });
  }

  _end(exception) {
    if (this._ended) return;
    this._ended = exception;
    for (const waiting of this._pending.values()) waiting.reject(exception);
    this._pending.clear();
    this._stream.end();
    this._stream.unref();
  }

  // Starts an interpreter of `lang`; the options are those of bondd's open, timeouts in seconds.
  async open(lang, options = {}) {
    const params = { lang };
    const names = { command: 'command', args: 'args', cwd: 'cwd', env: 'env', defArgs: 'def_args',
      transExcept: 'trans_except', limits: 'limits', sandbox: 'sandbox', container: 'container', name: 'name' };
    for (const [option, param] of Object.entries(names)) {
      if (options[option] !== undefined) params[param] = options[option];
    }
    if (options.timeout !== undefined) params.timeout_ms = Math.round(options.timeout * 1000);
    if (options.startTimeout !== undefined) params.start_timeout_ms = Math.round(options.startTimeout * 1000);
    return this._adopt(await this._request('open', params), options.name, options.onOutput);
  }

  // The bond another client opened with `name`, now held by this client too.
  async attach(name, options = {}) {
    return this._adopt(await this._request('attach', { name }), name, options.onOutput);
  }

  _adopt(opened, name, onOutput) {
    const bond = new Bond(this, opened.bond, opened.lang, name, onOutput);
    this._bonds.set(bond.id, bond);
    return bond;
  }

  drivers() { return this._request('drivers', {}); }

  list() { return this._request('list', {}); }

  // Closes the connection: the daemon closes the bonds only this client held; a private
  // daemon exits (awaited).
  async close() {
    if (!this._ended) {
      if (this._released.length) {
        try { this._send({ jsonrpc: '2.0', method: 'release', params: { objects: [] } }); } catch { /* gone */ }
      }
      this._end(new TerminatedException('the client was closed'));
    }
    const daemon = this._daemon;
    this._daemon = null;
    if (daemon && daemon.exitCode === null && daemon.signalCode === null) {
      daemon.ref(); // the wait keeps the process alive
      await new Promise((resolve) => daemon.once('exit', resolve));
    }
  }
}

class Bond extends EventEmitter {
  constructor(client, id, lang, name, onOutput) {
    super();
    this.client = client;
    this.id = id;
    this.lang = lang;
    this.name = name;
    this._onOutput = onOutput;
  }

  _request(method, params) { return this.client._request(method, params, this.id); }

  _code(method, code, options) {
    const params = { bond: this.id, code: code instanceof Ref ? code.code : code };
    if (options && options.limits) params.limits = options.limits;
    return this._request(method, params);
  }

  // The value of the expression `code`.
  eval(code, options) { return this._code('eval', code, options); }

  // Runs the statements `code`; what they define stays.
  async evalBlock(code, options) { await this._code('eval_block', code, options); }

  // Calls `name` (any callable expression of the language) with `args`.
  call(name, ...args) { return this._request('call', { bond: this.id, name, args }); }

  // The same under other limits: callWith({limits}, name, ...args).
  callWith(options, name, ...args) {
    return this._request('call', { bond: this.id, name, args, limits: options.limits });
  }

  // A function that calls `name`.
  callable(name) {
    const remote = (...args) => this.call(name, ...args);
    Object.defineProperty(remote, 'name', { value: name });
    return remote;
  }

  // Lets the remote code call `fn` (plain or async) as `name`: export(name, fn) or export(fn).
  async export(name, fn) {
    if (typeof name === 'function') [name, fn] = [fn && typeof fn === 'string' ? fn : name.name, name];
    this.client._exports.set(`${this.id}\0${name}`, fn);
    await this._request('export', { bond: this.id, name });
    return fn;
  }

  // Makes `name` of this bond callable in `other` (of the same client) as `remote`.
  async proxy(name, other, remote) {
    const params = { bond: this.id, name, to: other.id };
    if (remote !== undefined) params.remote = remote;
    await this._request('proxy', params);
  }

  ref(code) { return new Ref(code); }

  exports() { return this._request('exports', { bond: this.id }); }

  // Stops the operation running on the bond: it rejects with Interrupted, the bond goes on.
  async interrupt() { await this.client._request('interrupt', { bond: this.id }); }

  async close() {
    if (!this.client._bonds.delete(this.id)) return;
    for (const key of [...this.client._exports.keys()]) {
      if (key.startsWith(`${this.id}\0`)) this.client._exports.delete(key);
    }
    if (!this.client._ended) await this.client._request('close', { bond: this.id });
  }
}

// A value that stays in its interpreter, as a Proxy: `await obj.total` reads an attribute,
// `await obj.add(3)` calls a method (one round trip), `await obj(...)` calls the object,
// `obj.$set(name, value)`, `obj.$value()`, `obj.$call(method, ...args)`, `obj.$release()`,
// `obj.$type`. Passed to its own bond, the code gets the original. Released once collected.
function remoteObject(client, number, type) {
  const handle = { number, bond: null };
  const request = (method, params) => {
    if (handle.number === null) return Promise.reject(new BondException('the remote object was released'));
    return client._request(method, { object: handle.number, ...params }, handle.bond);
  };
  const own = {
    $call: (method, ...args) => request('object_call', { method, args }),
    $get: (name) => request('object_get', { name }),
    $set: (name, value) => request('object_set', { name, value }),
    $value: () => request('object_get', {}),
    $release: () => {
      if (handle.number !== null) {
        client._registry.unregister(handle);
        client._released.push(handle.number);
        handle.number = null;
      }
    },
    $type: type,
  };
  const target = function RemoteObject() {};
  const proxy = new Proxy(target, {
    get(_, property) {
      if (typeof property === 'symbol') {
        if (property === Symbol.for('nodejs.util.inspect.custom')) return () => `<bond proxy of ${type} #${handle.number}>`;
        return undefined;
      }
      if (Object.prototype.hasOwnProperty.call(own, property)) return own[property];
      // Not remote: a proxy is not itself awaitable, and JSON.stringify looks for toJSON.
      if (property === 'then' || property === 'toJSON') return undefined;
      if (property === 'toString') return () => `<bond proxy of ${type} #${handle.number}>`;
      const attribute = (...args) => own.$call(property, ...args);
      attribute.then = (resolve, reject) => own.$get(property).then(resolve, reject);
      return attribute;
    },
    set(_, property, value) {
      own.$set(property, value).catch(() => {}); // $set to await it and see its error
      return true;
    },
    apply(_, thisArg, args) { return request('object_call', { args }); },
  });
  handles.set(proxy, handle);
  client._registry.register(proxy, number, handle);
  return proxy;
}

module.exports = {
  Client, Bond, Ref, BondException, TerminatedException, SerializationException, RemoteException,
  Interrupted, LimitExceeded, TimeoutException, ProtocolError, defaultSocketPath, findBondd,
};

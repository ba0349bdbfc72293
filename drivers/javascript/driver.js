// The bond driver for JavaScript (Node.js): speaks the protocol of docs/protocol.md with the host.
// This file is one function expression, run twice, in two processes:
//  - "launcher": the host starts `node -i` and sends one line that evaluates this file in that
//    REPL. Node cannot dup2(), so the launcher starts a second node, the driver, whose fd 1 and 2
//    are files this driver reads (output of child processes then never corrupts the protocol),
//    and which gets the protocol pipes as fd 3 and 4. The launcher then only waits: it forwards
//    what the driver's files still hold when the driver ends, and ends the same way.
//  - "driver": serves the host's requests. A worker thread owns the protocol's input, so the
//    event loop stays free for Promises and timers, and so a synchronous call of an exported
//    host function can wait for its reply (Atomics.wait) while JavaScript code is on the stack.
// Only Node's standard library is used.
(function bondJavaScriptDriver(role, source) {
    'use strict';
    const fs = require('fs');
    const {isUtf8} = require('buffer');

    const STDERR_READY_MARK = '\n__bond_driver_ready__\n';
    // The driver's descriptors, as the launcher arranges them.
    const FD = {protocolIn: 3, protocolOut: 4, originalStderr: 5, stdoutFile: 6, stderrFile: 7};
    const OUTPUT_CHUNK = 1 << 20;  // bytes per output message at most

    function outputLine(channel, bytes) {
        const data = isUtf8(bytes) ? bytes.toString('utf8') : {$bytes: bytes.toString('base64')};
        return JSON.stringify({jsonrpc: '2.0', method: 'output', params: {channel, data}}) + '\n';
    }

    function writeAll(fd, data) {
        const bytes = typeof data === 'string' ? Buffer.from(data) : data;
        for (let offset = 0; offset < bytes.length;) {
            try {
                offset += fs.writeSync(fd, bytes, offset);
            } catch (error) {
                // A non-blocking descriptor that could not be reopened (see reopen): wait a little
                // for the host to read. Only reached where /proc is missing.
                if (error.code !== 'EAGAIN') throw error;
                Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
            }
        }
    }

    // Reads the unread part of an output file (fd 1 or 2 of the driver) and hands it, in chunks,
    // to `send`. The file is emptied once read, so that it does not grow with everything ever
    // written: a background process writing in between read and truncation loses that output.
    let drainBuffer = null;
    function drainOutputFile(readFd, writeFd, channel, send) {
        const buffer = drainBuffer ??= Buffer.allocUnsafe(OUTPUT_CHUNK);
        let offset = 0;
        for (;;) {
            const length = fs.readSync(readFd, buffer, 0, buffer.length, offset);
            if (length === 0) break;
            offset += length;
            send(outputLine(channel, buffer.subarray(0, length)));
        }
        if (offset > 0) fs.ftruncateSync(writeFd, 0);
    }

    if (role === 'launcher') return launch(source);
    return serve();

    // --- The launcher ----------------------------------------------------------------------------
    function launch(driverSource) {
        const os = require('os');
        const path = require('path');
        // A failure here must end the launcher with a message, not leave the REPL waiting.
        process.on('uncaughtException', (error) => {
            writeAll(2, `bond driver: cannot start the driver: ${error.message}\n`);
            process.exit(70);
        });
        // After the REPL has printed this line's value and its prompt (the host ignores that
        // noise). From then on stdin carries the protocol, read by the driver only.
        setImmediate(() => {
            process.on('SIGINT', () => {});  // an interrupt is for the driver, not for the launcher
            // $TMPDIR when it is set; else /tmp, and where that is read-only /dev/shm: a sandbox
            // with a read-only /tmp (bwrap --ro-bind / /) still has a memory file system there
            // (bwrap --dev /dev).
            const directories = process.env.TMPDIR ? [os.tmpdir()] : [os.tmpdir(), '/dev/shm'];
            const openFile = (channel) => {
                for (const [index, directory] of directories.entries()) {
                    const name = path.join(
                        directory,
                        `bond-${process.pid}-${channel}-` +
                            require('crypto').randomBytes(6).toString('hex'));
                    try {
                        const write = fs.openSync(name, 'wx', 0o600);
                        const read = fs.openSync(name, 'r');
                        fs.unlinkSync(name);
                        return {channel, write, read};
                    } catch (error) {
                        if (index === directories.length - 1) throw error;
                    }
                }
            };
            const files = ['stdout', 'stderr'].map(openFile);
            // --expose-internals: for the driver's SIGINT watchdog (holdSigintWatchdog).
            const nodeOptions = [
                ...process.execArgv.filter((o) => o !== '-i' && o !== '--interactive'),
                '--expose-internals'
            ];
            const driver =
                require('child_process')
                    .spawn(
                        process.execPath, [...nodeOptions, '-e', `(${driverSource})('driver')`], {
                            stdio: [
                                'ignore', files[0].write, files[1].write, 0, 1, 2, files[0].read,
                                files[1].read
                            ]
                        });
            // The REPL would go on reading stdin (pause() does not last): close it here, without
            // letting the REPL see the end, which would make it exit.
            process.stdin.removeAllListeners();
            process.stdin.destroy();
            driver.on('error', (error) => {
                writeAll(2, `bond driver: cannot start ${process.execPath}: ${error.message}\n`);
                process.exit(70);
            });
            // A signal that ends the launcher must end the driver first: the host's waitpid() of
            // the launcher then means the driver is gone too, not a zombie waiting for init.
            for (const signal of ['SIGTERM', 'SIGHUP'])
                process.on(signal, () => driver.kill(signal));
            driver.on('exit', (code, signal) => {
                // What the driver wrote last (a fatal error of V8, say) still reaches the host.
                for (const file of files) {
                    try {
                        drainOutputFile(
                            file.read, file.write, file.channel, (line) => writeAll(1, line));
                    } catch (error) {
                        // The host has gone: nothing is left to tell.
                    }
                }
                if (signal) {
                    process.removeAllListeners(signal);
                    process.kill(process.pid, signal);
                }
                process.exit(code === null ? 70 : code);
            });
        });
    }

    // --- The driver ------------------------------------------------------------------------------
    function serve() {
        const vm = require('vm');
        const util = require('util');
        const {Worker, MessageChannel, receiveMessageOnPort} = require('worker_threads');

        // New descriptions of the inherited descriptors: not inherited by child processes (Node
        // opens with O_CLOEXEC), and blocking even when the launcher's libuv made the shared ones
        // non-blocking. Where /proc is missing the inherited ones are kept.
        function reopen(fd, flags) {
            try {
                const copy = fs.openSync(`/proc/self/fd/${fd}`, flags);
                fs.closeSync(fd);
                return copy;
            } catch (error) {
                return fd;
            }
        }
        // Memory the driver's threads share.
        const shared = new Int32Array(new SharedArrayBuffer(16));
        const LINES = 0;    // counts messages passed on by the reader thread
        const WRITING = 1;  // the protocol's output is being written (a lock of both threads)
        // 1: user code runs where a SIGINT stops it; 2: the reader thread sent that SIGINT.
        const RUNNING = 2;
        const STOPS = 3;  // the reader thread passed on a stop the main thread has not taken

        const protocolOut = reopen(FD.protocolOut, 'w');
        const originalStderr = reopen(FD.originalStderr, 'w');
        const outputFiles = [
            {read: reopen(FD.stdoutFile, 'r'), write: 1, channel: 'stdout'},
            {read: reopen(FD.stderrFile, 'r'), write: 2, channel: 'stderr'},
        ];

        function fail(reason) {
            try {
                writeAll(originalStderr, `bond driver: ${reason}\n`);
            } finally {
                process.exit(70);
            }
        }

        // --- Writing: every message first forwards the output files, so that output written
        // before a reply (by a child process too) reaches the host before the reply.
        let writingMessage = false;
        function drainOutputFiles() {
            for (const file of outputFiles)
                drainOutputFile(
                    file.read, file.write, file.channel, (line) => writeAll(protocolOut, line));
        }
        // The reader thread writes too (a `limit` notification): a lock of both threads.
        function sendLine(line) {
            writingMessage = true;
            while (Atomics.compareExchange(shared, WRITING, 0, 1) !== 0)
                Atomics.wait(shared, WRITING, 1);
            try {
                drainOutputFiles();
                writeAll(protocolOut, line);
            } finally {
                Atomics.store(shared, WRITING, 0);
                Atomics.notify(shared, WRITING);
                writingMessage = false;
            }
        }
        function sendOutput(channel, bytes) {
            if (writingMessage) return;  // only a bug of this driver could print here
            for (let start = 0; start < bytes.length; start += OUTPUT_CHUNK)
                sendLine(outputLine(channel, bytes.subarray(start, start + OUTPUT_CHUNK)));
        }

        // process.stdout / process.stderr (and so console.*) become output messages, in order.
        for (const [stream, channel] of [[process.stdout, 'stdout'], [process.stderr, 'stderr']]) {
            stream._write = (chunk, encoding, done) => {
                raisePendingStop();  // code that prints in a loop stops here
                try {
                    outsideUserCode(
                        () => sendOutput(
                            channel,
                            Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk, encoding)));
                } catch (error) {
                    return done(error);
                }
                done();
                raisePendingStop();
            };
            stream._writev = null;
        }

        // --- Values ----------------------------------------------------------------------------
        class SerializationError extends Error {}

        // String.prototype.isWellFormed is new in Node 20.
        const isWellFormed = String.prototype.isWellFormed ? (text) => text.isWellFormed() :
                                                             (text) => !/\p{Surrogate}/u.test(text);
        function isBytes(value) {
            return value instanceof Uint8Array || value instanceof ArrayBuffer ||
                value instanceof DataView;
        }
        function bytesOf(value) {
            if (value instanceof ArrayBuffer) return Buffer.from(value);
            return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
        }
        function describeType(value) {
            if (value === null) return 'null';
            if (typeof value !== 'object') return typeof value;
            return (value.constructor && value.constructor.name) || 'Object';
        }

        // JSON.stringify's replacer sees a value after its toJSON; `this[key]` is the value itself.
        function replacer(key, value) {
            const original = this[key];
            if (isBytes(original)) return {$bytes: bytesOf(original).toString('base64')};
            switch (typeof value) {
                case 'number':
                    if (!Number.isFinite(value))
                        throw new SerializationError(`${value} is not a JSON number`);
                    return value;
                case 'string':
                    if (!isWellFormed(value))
                        throw new SerializationError(
                            'a string with a lone surrogate is not Unicode');
                    return value;
                case 'bigint':
                    if (value < INT64_MIN || value > UINT64_MAX)
                        throw new SerializationError(`the BigInt ${value}n is beyond 64 bits`);
                    encodedBigInt = true;
                    return BIGINT_MARK + value;
                case 'function':
                case 'symbol':
                    throw new SerializationError(`cannot serialize ${util.inspect(value)}`);
                case 'object':
                    if (value instanceof Map || value instanceof Set || value instanceof WeakMap ||
                        value instanceof WeakSet || value instanceof Promise)
                        throw new SerializationError(
                            `cannot serialize a ${describeType(value)}` +
                            (value instanceof Map ? ' (Object.fromEntries makes an object of it)' :
                                                    '') +
                            (value instanceof Set ? ' (Array.from makes an array of it)' : ''));
                    if (ArrayBuffer.isView(value)) return Array.from(value);  // Float64Array, ...
                    return value;
                default:
                    return value;  // undefined: null in arrays, left out in objects
            }
        }
        // Integers beyond Number's 53 bits cross as BigInt, exactly: JSON.parse and stringify
        // know no BigInt, so such numbers travel through them as marked strings.
        const BIGINT_MARK = `bond-bigint-${require('crypto').randomBytes(8).toString('hex')}:`;
        const ENCODED_BIGINT = new RegExp(`"${BIGINT_MARK}(-?\\d+)"`, 'g');
        const INT64_MIN = -(2n ** 63n), UINT64_MAX = 2n ** 64n - 1n;
        let encodedBigInt = false;

        function encode(message) {
            encodedBigInt = false;
            let line;
            try {
                line = JSON.stringify(message, replacer);
            } catch (error) {
                if (error instanceof SerializationError) throw error;
                // JSON.stringify's own: "Converting circular structure to JSON ...".
                throw new SerializationError(error.message.split('\n')[0]);
            }
            return (encodedBigInt ? line.replace(ENCODED_BIGINT, '$1') : line) + '\n';
        }

        const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
        function revive(key, value) {
            if (typeof value === 'string')
                return value.startsWith(BIGINT_MARK) ? BigInt(value.slice(BIGINT_MARK.length)) :
                                                       value;
            if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
                const keys = Object.keys(value);
                if (keys.length === 1 && keys[0] === '$bytes' && typeof value.$bytes === 'string' &&
                    BASE64.test(value.$bytes))
                    return Buffer.from(value.$bytes, 'base64');
            }
            return value;
        }
        // The line with its integers beyond 53 bits as marked strings, or null when it has none.
        function markBigIntegers(line) {
            let marked = '', copied = 0;
            for (let i = 0; i < line.length;) {
                const c = line[i];
                if (c === '"') {  // skip a string
                    for (++i; i < line.length && line[i] !== '"'; i += line[i] === '\\' ? 2 : 1)
                        ;
                    ++i;
                } else if (c === '-' || (c >= '0' && c <= '9')) {
                    const start = i;
                    for (++i; i < line.length && '0123456789.eE+-'.includes(line[i]); ++i)
                        ;
                    const token = line.slice(start, i);
                    if (/^-?\d+$/.test(token) && !Number.isSafeInteger(Number(token))) {
                        marked += line.slice(copied, start) + JSON.stringify(BIGINT_MARK + token);
                        copied = i;
                    }
                } else {
                    ++i;
                }
            }
            return copied === 0 ? null : marked + line.slice(copied);
        }
        function decode(line) {
            // The reviver walks every value: only run it where bytes or big integers may be.
            const marked = /\d{16}/.test(line) ? markBigIntegers(line) : null;
            if (marked !== null) return JSON.parse(marked, revive);
            return line.includes('"$bytes"') ? JSON.parse(line, revive) : JSON.parse(line);
        }

        // --- Errors ----------------------------------------------------------------------------
        class InvalidParams extends Error {}
        class BondError extends Error {}  // an error of the host's exported function
        Object.defineProperty(BondError.prototype, 'name', {value: 'BondError'});

        let transExcept = false;

        function describeThrown(thrown) {
            if (thrown instanceof Error ||
                (thrown && typeof thrown.message === 'string' && typeof thrown.name === 'string')) {
                return thrown.message ? `${thrown.name}: ${thrown.message}` : String(thrown.name);
            }
            if (typeof thrown === 'string') return thrown;
            return util.inspect(thrown, {depth: 4, breakLength: Infinity});
        }
        function serializedException(thrown) {
            if (thrown !== null && typeof thrown === 'object' &&
                typeof thrown.toJSON !== 'function' && thrown instanceof Error) {
                return {type: thrown.name, message: thrown.message, stack: thrown.stack, ...thrown};
            }
            return thrown === undefined ? null : thrown;
        }
        function errorReply(id, code, message, data) {
            const error = {code, message};
            if (data !== undefined) error.data = data;
            return {jsonrpc: '2.0', id, error};
        }
        function thrownReply(id, thrown) {
            if (isStop(thrown))
                return errorReply(
                    id, -32002, describeThrown(thrown),
                    {type: 'Interrupted', limit: stop !== null ? stop.limit : null});
            if (thrown instanceof SerializationError)
                return errorReply(id, -32001, `cannot serialize the result: ${thrown.message}`);
            if (thrown instanceof InvalidParams) return errorReply(id, -32602, thrown.message);
            const data = {type: thrown instanceof Error ? thrown.name : describeType(thrown)};
            if (transExcept) {
                data.exception = serializedException(thrown);
                try {
                    encode(data);
                } catch (error) {
                    data.exception = util.inspect(thrown);
                }
            }
            return errorReply(id, -32000, describeThrown(thrown), data);
        }
        function sendMessage(message) {
            if (message.line !== undefined) return sendLine(message.line);  // encoded already
            let line;
            try {
                line = encode(message);
            } catch (error) {
                line = encode(thrownReply(message.id, error));
            }
            sendLine(line);
        }

        // --- Evaluation ------------------------------------------------------------------------
        // Scripts run in the global scope (vm.runInThisContext): var and function declarations
        // become globals, let/const/class join the global lexical scope, so they persist.
        // eval's code is an expression (so `{a: 1}` is an object) or, failing that, statements
        // whose completion value is the value. Most evals repeat a few codes: compiled once.
        const compiledCache = new Map();
        function evaluate(code) {
            let script = compiledCache.get(code);
            if (script === undefined) {
                try {
                    script = new vm.Script(`(${code}\n)`, {filename: '<bond>'});
                } catch (error) {
                    script = new vm.Script(code, {filename: '<bond>'});
                }
                if (compiledCache.size > 1024) compiledCache.clear();
                compiledCache.set(code, script);
            }
            return script.runInThisContext({displayErrors: false});
        }

        // V8's REPL mode, through the inspector: top-level await, and let/const that may be
        // declared again (as in Node's and browsers' consoles). Only at the top level: its value
        // is a Promise, which cannot settle while a nested call holds the event loop.
        let inspectorSession = null;
        function inspector() {
            if (inspectorSession === null) {
                try {
                    const {Session} = require('inspector');
                    inspectorSession = new Session();
                    inspectorSession.connect();
                } catch (error) {
                    inspectorSession = false;  // a node built without the inspector
                }
            }
            return inspectorSession;
        }
        function inspectorCall(method, params) {
            let reply = null;
            inspector().post(method, params, (error, result) => {
                reply = {error, result};
            });
            if (reply === null) throw new Error(`the inspector did not answer ${method} at once`);
            if (reply.error) throw new Error(reply.error.message);
            return reply.result;
        }
        // The JavaScript value an inspector RemoteObject stands for: an object is handed over
        // through a global slot, for as long as it takes to take it back.
        const SLOT = Symbol.for('bond.inspector.value');
        function valueOf(remote) {
            if (remote.objectId !== undefined) {
                inspectorCall('Runtime.callFunctionOn', {
                    objectId: remote.objectId,
                    functionDeclaration:
                        `function () { globalThis[Symbol.for('bond.inspector.value')] = this; }`,
                });
                const value = globalThis[SLOT];
                delete globalThis[SLOT];
                return value;
            }
            if (remote.unserializableValue !== undefined)
                return vm.runInThisContext(remote.unserializableValue);
            return remote.value;
        }
        // Code with top-level await: in REPL mode; where the inspector is missing (or refuses),
        // as the body of an async function (`expression`: the code is its value).
        function awaiting(code, expression) {
            return inspector() ? replEvaluate(code, expression) : asyncFunctionOf(code, expression);
        }
        function asyncFunctionOf(code, expression) {
            const body = expression ? `return (${code}\n);` : code;
            return vm.runInThisContext(
                `(async () => {\n${body}\n})()`, {filename: '<bond>', displayErrors: false});
        }
        function replEvaluate(code, expression) {
            const session = inspector();
            const evaluation = new Promise((resolve, reject) => {
                session.post(
                    'Runtime.evaluate', {
                        expression: code,
                        replMode: true,
                        awaitPromise: true,
                        objectGroup: 'bond',
                    },
                    (error, reply) => {
                        if (session !== inspectorSession) return;  // of a stopped request
                        if (error) {
                            // After V8 ended an evaluation of the inspector's (a stop), it may
                            // refuse evaluations ("Cannot find context with specified id"): an
                            // async function runs the code then, its declarations its own.
                            inspectorSession = false;
                            setImmediate(() => {
                                try {
                                    resolve(runGuarded(() => asyncFunctionOf(code, expression)));
                                } catch (failure) {
                                    reject(failure);
                                }
                            });
                            return;
                        }
                        try {
                            if (error) throw new Error(error.message);
                            if (reply.exceptionDetails) {
                                const details = reply.exceptionDetails;
                                reject(
                                    details.exception ? valueOf(details.exception) :
                                                        new Error(details.text));
                            } else {
                                resolve(valueOf(reply.result));
                            }
                        } catch (failure) {
                            reject(failure);
                        } finally {
                            session.post('Runtime.releaseObjectGroup', {objectGroup: 'bond'});
                        }
                    });
            });
            // A stopped request no longer waits for this: its late answer must not count as an
            // unhandled rejection (which would fail the next request).
            evaluation.catch(() => {});
            return evaluation;
        }
        function usesAwait(error, code) {
            return error instanceof SyntaxError && /\bawait\b/.test(code);
        }

        function codeParam(params, key) {
            const code = params[key];
            if (typeof code !== 'string') throw new InvalidParams(`"${key}" must be a string`);
            return code;
        }

        const callers = new Map();  // call's name expressions, compiled once
        function callerOf(name) {
            let caller = callers.get(name);
            if (caller === undefined) {
                if (callers.size > 1024) callers.clear();
                // (name)(...) keeps `this`: obj.method is called as a method of obj.
                caller = vm.runInThisContext(
                    `(function (args) { return (${name}\n)(...args); })`,
                    {filename: '<bond>', displayErrors: false});
                callers.set(name, caller);
            }
            return caller;
        }

        const IDENTIFIER = /^[\p{ID_Start}$_][\p{ID_Continue}$\u200c\u200d]*$/u;
        const RESERVED =
            new Set(('await break case catch class const continue debugger default ' +
                     'delete do else enum export extends false finally for function if ' +
                     'import in instanceof let new null return static super switch this ' +
                     'throw true try typeof var void while with yield arguments eval')
                        .split(' '));

        const methods = {
            eval(params, nested) {
                const code = codeParam(params, 'code');
                try {
                    return evaluate(code);
                } catch (error) {
                    if (!nested && usesAwait(error, code)) return awaiting(code, true);
                    throw error;
                }
            },
            // A plain script where it can be one; V8's REPL mode (through the inspector) for
            // top-level await, which a script cannot parse.
            eval_block(params, nested) {
                const code = codeParam(params, 'code');
                let script;
                try {
                    script = new vm.Script(code, {filename: '<bond>'});
                } catch (error) {
                    if (!nested && usesAwait(error, code))
                        return awaiting(code, false).then(() => null);
                    throw error;
                }
                script.runInThisContext({displayErrors: false});
                return null;
            },
            call(params) {
                const caller = callerOf(codeParam(params, 'name'));
                const args = Array.isArray(params.args) ? params.args : [];
                for (const position of params.code_args || [])
                    args[position] = vm.runInThisContext(
                        args[position], {filename: '<bond>', displayErrors: false});
                return caller(args);
            },
            export(params) {
                const name = params.name;
                if (typeof name !== 'string' || !IDENTIFIER.test(name) || RESERVED.has(name))
                    throw new InvalidParams(
                        `${JSON.stringify(name)} is not a valid JavaScript function name`);
                globalThis[name] = {
                    [name](...args) { return request('call', {name, args}); },
                }[name];
                return null;
            },
            configure(params) {
                if ('trans_except' in params) transExcept = Boolean(params.trans_except);
                return null;
            },
        };

        // --- Stopping running code (docs/protocol.md, Limits) --------------------------------
        // The reader thread sees an `interrupt` while code runs and sends SIGINT: user code runs
        // inside a vm script with breakOnSigint, which V8 ends there (JavaScript cannot catch it),
        // however deep the code is. CPU and memory limits are watched by the reader thread too.
        // A stop that comes while the driver's own code runs ends the user code at the next
        // safe point (user code starting, an exported function returning, output written) the
        // same way.
        class Interrupted extends Error {}
        Object.defineProperty(Interrupted.prototype, 'name', {value: 'Interrupted'});

        const received = new Set();  // ids of the host's requests not answered yet
        let stop = null;             // {id, limit, raised} of the operation being stopped

        function noteStop(id, limit) {
            if (stop !== null || !received.has(id)) return;  // stale: its reply crossed it
            stop = {id, limit, raised: false};
            // Awaiting a Promise, with nothing of it running: stop waiting for it. (Code waiting
            // for an exported function is stopped when that returns.)
            if (current !== null && current.id === id && Atomics.load(shared, RUNNING) === 0 &&
                hostCalls === 0)
                current.fail(stopError());
        }
        function stopError() {
            stop.raised = true;
            return new Interrupted(
                stop.limit ? `the code exceeded its ${stop.limit} limit` :
                             'the code was interrupted');
        }
        // A safe point: a pending stop ends the running code here, once.
        function raisePendingStop() {
            if (Atomics.load(shared, STOPS) !== 0) outsideUserCode(takeStops);
            if (stop !== null && !stop.raised && Atomics.load(shared, RUNNING) !== 0) stopNow();
        }
        // Ends the running user code as an interrupt from the reader thread does: with a SIGINT
        // that V8 turns into the end of the script, which no JavaScript code can catch (an
        // exception could be: console.log swallows what its stream throws).
        function stopNow() {
            stop.raised = true;
            if (Atomics.compareExchange(shared, RUNNING, 1, 2) === 1)
                process.kill(process.pid, 'SIGINT');
            Atomics.wait(shared, RUNNING, 2);
        }
        function isStop(thrown) {
            return thrown instanceof Interrupted ||
                (thrown instanceof Error && thrown.code === 'ERR_SCRIPT_EXECUTION_INTERRUPTED');
        }

        // V8 ends the script wherever it is when the SIGINT comes, skipping `finally` blocks, so
        // a SIGINT must never reach the driver's own code: the reader thread sends it only while
        // RUNNING is 1 and marks it sent (2); code leaving user code that finds it sent waits
        // for it to end the script right there.
        function enterUserCode() { Atomics.store(shared, RUNNING, 1); }
        function leaveUserCode() {
            if (Atomics.compareExchange(shared, RUNNING, 1, 0) === 2)
                Atomics.wait(shared, RUNNING, 2);  // ended by V8: the SIGINT is on its way
        }
        // Runs user code where a SIGINT ends it: inside a vm script, whose breakOnSigint is set
        // before RUNNING becomes 1.
        const runGuarded = (() => {
            const slot = Symbol.for('bond.guarded');
            const script = new vm.Script(`globalThis[Symbol.for('bond.guarded')]()`);
            return (work) => {
                globalThis[slot] = () => {
                    enterUserCode();
                    raisePendingStop();
                    let result;
                    try {
                        result = work();
                    } catch (error) {
                        leaveUserCode();
                        throw error;
                    }
                    leaveUserCode();
                    return result;
                };
                try {
                    return script.runInThisContext({breakOnSigint: true, displayErrors: false});
                } finally {
                    delete globalThis[slot];
                    Atomics.store(shared, RUNNING, 0);
                    // Only a SIGINT from elsewhere can have cut a message in half.
                    if (writingMessage) fail('a SIGINT from outside ended the driver mid-message');
                }
            };
        })();
        // Driver code called from user code (an exported function, output): no SIGINT there.
        function outsideUserCode(work) {
            const fromUserCode = Atomics.load(shared, RUNNING) !== 0;
            if (fromUserCode) leaveUserCode();
            try {
                return work();
            } finally {
                if (fromUserCode) enterUserCode();
            }
        }
        // breakOnSigint starts a watchdog thread (and its signal handler) before each script and
        // stops it after: ~100 us a request. Held started, as Node's REPL holds it, it costs a
        // counter, and a SIGINT that comes while no script runs (too late to stop anything) is
        // noted by the watchdog and dropped. No SIGINT listener of the driver's: vm would take
        // listeners away around every script, and libuv would reset SIGINT's handler to the
        // default each time (the code that set one up itself has that to live with).
        (function holdSigintWatchdog() {
            const warn = process.emitWarning;
            process.emitWarning = () => {};  // "These APIs are for internal testing only"
            try {
                require('internal/test/binding')
                    .internalBinding('contextify')
                    .startSigintWatchdog();
            } catch (error) {
                // A node that refuses --expose-internals: slower, and a late SIGINT is ignored.
                process.on('SIGINT', () => {});
            } finally {
                process.emitWarning = warn;
            }
        })();

        // --- Requests --------------------------------------------------------------------------
        // The top-level request being served, whose reply waits for its Promise and for the
        // end of the current turn of the event loop: an unhandled rejection or an uncaught
        // exception of that turn fails it instead.
        let current = null;

        function isThenable(value) {
            return value !== null && (typeof value === 'object' || typeof value === 'function') &&
                typeof value.then === 'function';
        }

        function handleRequest(message, nested) {
            const {id, method} = message;
            const params =
                message.params !== null && typeof message.params === 'object' ? message.params : {};
            const handler = Object.hasOwn(methods, method) ? methods[method] : undefined;
            if (handler === undefined && id === undefined) return;
            if (handler === undefined)
                return sendMessage(
                    errorReply(id ?? null, -32601, `unknown method ${JSON.stringify(method)}`));
            if (id !== undefined) received.add(id);
            const limits = !nested && params.limits !== null && typeof params.limits === 'object' ?
                params.limits :
                null;
            if (limits !== null) watchLimits(id, limits);
            const answer = (reply) => {
                received.delete(id);
                if (limits !== null) watchLimits(null, null);
                if (stop !== null && stop.id === id) stop = null;
                if (id !== undefined) sendMessage(reply);
            };
            let result;
            try {
                result = runGuarded(() => handler(params, nested));
            } catch (error) {
                if (isStop(error)) takeStops();  // the interrupt that stopped it, still queued
                return answer(thrownReply(id, error));
            }
            if (id === undefined) return answer(null);  // a notification: nothing to answer
            if (nested) {
                if (isThenable(result))
                    return answer(thrownReply(
                        id,
                        new Error(
                            'the value is a Promise, which cannot settle while JavaScript waits for the ' +
                            'host (a call from inside an exported function)')));
                return answer({jsonrpc: '2.0', id, result: result === undefined ? null : result});
            }
            const request = {id, replied: false};
            current = request;
            const reply = (message) => {
                if (request.replied) return;
                request.replied = true;
                if (current === request) current = null;
                answer(message);
            };
            request.fail = (thrown) => reply(thrownReply(id, thrown));
            Promise.resolve(result).then((value) => {
                // Serialized now, sent when this turn of the event loop is over.
                let response;
                try {
                    response =
                        encode({jsonrpc: '2.0', id, result: value === undefined ? null : value});
                } catch (error) {
                    return request.fail(error);
                }
                setImmediate(() => reply({line: response}));
            }, request.fail);
        }

        function reportUncaught(thrown, kind) {
            if (current !== null) return current.fail(thrown);
            const text =
                thrown instanceof Error && thrown.stack ? thrown.stack : describeThrown(thrown);
            sendOutput('stderr', Buffer.from(`${kind}: ${text}\n`));
        }
        process.on('uncaughtException', (error) => reportUncaught(error, 'Uncaught'));
        process.on('unhandledRejection', (reason) => reportUncaught(reason, 'Unhandled rejection'));

        // --- Reading: a worker thread reads the protocol's input and passes each line on. -------
        // It also stops running code (interrupt, CPU and memory limits), and writes the `limit`
        // notification itself: the main thread may be the one that cannot stop.
        const inbox = new MessageChannel();
        const watcher = new MessageChannel();
        const reader = new Worker(
            `
            const {workerData} = require('worker_threads');
            const fs = require('fs');
            const {port, control, fd, out} = workerData;
            const shared = new Int32Array(workerData.shared);
            function pass(message) {
                port.postMessage(message);
                Atomics.add(shared, ${LINES}, 1);
                Atomics.notify(shared, ${LINES});
            }
            function stopRunningCode() {
                Atomics.store(shared, ${STOPS}, 1);
                if (Atomics.compareExchange(shared, ${RUNNING}, 1, 2) === 1)
                    process.kill(process.pid, 'SIGINT');
            }
            let pending = [];
            const input = new (require('net').Socket)({fd, readable: true, writable: false});
            input.on('data', (chunk) => {
                let start = 0;
                for (let end; (end = chunk.indexOf(10, start)) !== -1; start = end + 1) {
                    pending.push(chunk.subarray(start, end));
                    const line = Buffer.concat(pending).toString('utf8');
                    pending = [];
                    pass({line});
                    if (line.includes('"interrupt"')) stopRunningCode();
                }
                if (start < chunk.length) pending.push(chunk.subarray(start));
            });
            input.on('end', () => {
                // The host is gone: code that runs must not go on unattended.
                if (Atomics.load(shared, ${RUNNING}) !== 0) process.kill(process.pid, 'SIGKILL');
                pass({end: 'the host closed the bond'});
            });
            input.on('error', (error) => pass({end: error.message}));

            // CPU time and memory of the running operation, from the limits in its request.
            let watch = null;
            const cpuSeconds = () => {
                const used = process.cpuUsage();
                return (used.user + used.system) / 1e6;
            };
            function limitReached(limit) {
                const line = JSON.stringify(
                    {jsonrpc: '2.0', method: 'limit', params: {id: watch.id, limit}}) + '\\n';
                while (Atomics.compareExchange(shared, ${WRITING}, 0, 1) !== 0)
                    Atomics.wait(shared, ${WRITING}, 1);
                try {
                    fs.writeSync(out, line);
                } catch (error) {
                    // The host has gone; the end of the input follows.
                } finally {
                    Atomics.store(shared, ${WRITING}, 0);
                    Atomics.notify(shared, ${WRITING});
                }
                pass({stop: {id: watch.id, limit}});
                stopRunningCode();
                unwatch();
            }
            function checkCpu() {
                const used = cpuSeconds() - watch.cpuStart;
                if (used >= watch.cpu) return limitReached('cpu');
                // CPU time runs no faster than the clock per thread: check again when the rest
                // of the budget could be used up at the earliest.
                watch.cpuTimer = setTimeout(checkCpu, Math.max(1, (watch.cpu - used) * 1000));
            }
            function unwatch() {
                if (watch === null) return;
                clearTimeout(watch.cpuTimer);
                clearInterval(watch.memoryTimer);
                watch = null;
            }
            control.on('message', (message) => {
                unwatch();
                if (message === null) return;
                watch = message;
                if (watch.cpu > 0) {
                    watch.cpuStart = cpuSeconds();
                    checkCpu();
                }
                // Memory is sampled: an allocation may overshoot by what it gets in 10 ms.
                if (watch.memory > 0)
                    watch.memoryTimer = setInterval(() => {
                        if (process.memoryUsage.rss() - watch.baseline > watch.memory)
                            limitReached('memory');
                    }, 10);
            });
        `,
            {
                eval: true,
                workerData: {
                    port: inbox.port2,
                    control: watcher.port2,
                    shared: shared.buffer,
                    fd: reopen(FD.protocolIn, 'r'),
                    out: protocolOut,
                },
                transferList: [inbox.port2, watcher.port2],
                stdout: false,
                stderr: false
            });
        reader.on('error', (error) => fail(`the protocol reader failed: ${error.stack}`));
        reader.unref();

        const memoryBaseline = process.memoryUsage.rss();
        let collectGarbage = null;
        function watchLimits(id, limits) {
            if (id === null) return watcher.port1.postMessage(null);
            const memory = Number(limits.memory) || 0;
            if (memory > 0 && process.memoryUsage.rss() - memoryBaseline > memory) {
                // What a stopped operation left behind is garbage now: collect it before the
                // next operation is measured against the same ceiling.
                if (collectGarbage === null) {
                    require('v8').setFlagsFromString('--expose-gc');
                    collectGarbage = vm.runInNewContext('gc');
                }
                collectGarbage();
            }
            watcher.port1.postMessage(
                {id, cpu: Number(limits.cpu) || 0, memory, baseline: memoryBaseline});
        }

        let closing = false;
        function hostClosed() {
            closing = true;
            inbox.port1.close();
            // The host went away while it waited for a reply: nobody wants the rest.
            if (received.size > 0) process.exit(0);
            // Else like the end of a script: what is scheduled still runs, then node exits.
        }

        // Messages taken from the inbox to look for stops, to be handled in their turn.
        const deferred = [];
        // Takes the stops (interrupt, limit) that the inbox holds.
        function takeStops() {
            Atomics.store(shared, STOPS, 0);
            for (let received; (received = receiveMessageOnPort(inbox.port1)) !== undefined;) {
                if (!takeStop(received.message)) deferred.push(received.message);
            }
        }
        // True when `received` was a stop, now noted.
        function takeStop(received) {
            if (received.stop !== undefined) {
                noteStop(received.stop.id, received.stop.limit);
                return true;
            }
            if (received.line === undefined || !received.line.includes('"interrupt"')) return false;
            let message;
            try {
                message = JSON.parse(received.line);
            } catch (error) {
                return false;
            }
            if (message === null || message.method !== 'interrupt') return false;
            const params = message.params;
            if (params !== null && typeof params === 'object') noteStop(params.id, null);
            return true;
        }

        function nextMessageSync() {
            if (deferred.length > 0) return deferred.shift();
            for (;;) {
                const seen = Atomics.load(shared, LINES);
                const received = receiveMessageOnPort(inbox.port1);
                if (received !== undefined) return received.message;
                Atomics.wait(shared, LINES, seen);
            }
        }

        // Returns the request when `line` is one, else the reply (null for a bad line).
        function parse(line) {
            let message;
            try {
                message = decode(line);
            } catch (error) {
                sendMessage(errorReply(null, -32700, `parse error: ${error.message}`));
                return null;
            }
            if (message === null || typeof message !== 'object' || Array.isArray(message)) {
                sendMessage(errorReply(null, -32600, 'a message must be a JSON object'));
                return null;
            }
            return message;
        }

        let nextRequestId = 0;
        let hostCalls = 0;  // requests to the host waiting for their reply
        // Sends a request to the host and serves the host's requests until its reply comes.
        function request(method, params) {
            const what = `${params.name}()`;
            if (closing) throw new BondError(`${what} cannot be called: the bond is closing`);
            raisePendingStop();
            const id = ++nextRequestId;
            let line;
            try {
                line = encode({jsonrpc: '2.0', id, method, params});
            } catch (error) {
                throw new TypeError(`cannot serialize the arguments of ${what}: ${error.message}`);
            }
            ++hostCalls;
            let reply;
            try {
                reply = outsideUserCode(() => {
                    sendLine(line);
                    for (;;) {
                        const received = nextMessageSync();
                        if (received.end !== undefined) {
                            hostClosed();
                            throw new BondError(`${what} cannot return: ${received.end}`);
                        }
                        if (takeStop(received)) continue;
                        const message = parse(received.line);
                        if (message === null) continue;
                        if ('method' in message) {
                            handleRequest(message, true);
                        } else if (message.id === id) {
                            return message;
                        } else {
                            fail(`a reply to a request never sent: ${received.line.slice(0, 200)}`);
                        }
                    }
                });
            } finally {
                --hostCalls;
            }
            if ('error' in reply) {
                // -32002: the host is stopping the code that called it.
                if (reply.error && reply.error.code === -32002 && stop !== null) {
                    if (Atomics.load(shared, RUNNING) !== 0) stopNow();
                    throw stopError();  // called from outside the host's requests (a timer)
                }
                throw new BondError(
                    String((reply.error && reply.error.message) ?? 'error in the host'));
            }
            raisePendingStop();  // the host's function returned, but the code was stopped meanwhile
            return reply.result;
        }

        function handleIdleMessage(received) {
            if (received.end !== undefined) return hostClosed();
            if (takeStop(received)) return;
            const message = parse(received.line);
            if (message === null) return;
            if ('method' in message)
                handleRequest(message, false);
            else
                fail(`a reply to a request never sent: ${received.line.slice(0, 200)}`);
        }
        inbox.port1.on('message', (received) => {
            handleIdleMessage(received);
            while (deferred.length > 0) handleIdleMessage(deferred.shift());
        });

        process.on('exit', () => {
            try {
                drainOutputFiles();
            } catch (error) {
                // The host has gone.
            }
        });

        // Code the host runs sees Node's usual globals of a script, resolved from the cwd.
        globalThis.require =
            require('module').createRequire(require('path').join(process.cwd(), '[bond]'));

        writeAll(originalStderr, STDERR_READY_MARK);
        sendLine('\n' + encode({
                     jsonrpc: '2.0',
                     method: 'ready',
                     params: {
                         protocol: 1,
                         lang: 'JavaScript',
                         version: process.versions.node,
                         pid: process.pid
                     }
                 }));
    }
})

// The bond driver for JavaScript (Node.js): speaks the protocol of docs/protocol.md with the host.
// The host starts `node -i` and sends one line that evaluates this file, a function expression,
// in that REPL; the driver then serves in that same process (one node start-up). Node cannot
// dup2(): descriptors 0, 1 and 2 are closed and opened again, 1 and 2 as files the driver reads
// (output of child processes then never corrupts the protocol), see takeDescriptors; where the
// protocol's pipes cannot be opened again (sudo), a second node serves instead (spawnDriver).
// The main thread reads the protocol's input itself (in the event loop while idle, so Promises
// and timers run; with blocking reads while nothing else needs the loop, or while an exported
// host function waits for its reply with JavaScript code on the stack), and a worker thread, the
// watcher (watcher.js), takes the input over while user code runs long, to stop it for an
// interrupt (see The serving loop).
// Only Node's standard library is used.
(function bondJavaScriptDriver(role, source, watcherSource) {
    'use strict';

    // --- State -----------------------------------------------------------------------------------
    // The driver's state: Node's built-ins as they were (user code may replace the globals), the
    // descriptors main() serves with, and the memory the main thread shares with the watcher. What
    // one section alone uses is declared at its top.
    // The driver's own references to the built-ins it uses: the code the host runs may assign
    // others to the globals (JSON, Object, ...).
    const {
        JSON: globalJSON, Object, Array, Reflect, Proxy, Map, Set, WeakMap, WeakRef, FinalizationRegistry, Promise,
        Symbol, String, Number, BigInt, Math, Error, TypeError, SyntaxError, RegExp, Atomics,
        SharedArrayBuffer, Int32Array, Uint8Array, ArrayBuffer, DataView, Buffer, process,
        setImmediate, setTimeout, clearTimeout
    } = globalThis;
    const globalObject = globalThis;
    // JSON's functions too, which every message uses (user code may assign JSON.stringify).
    const JSON = Object.freeze({parse: globalJSON.parse, stringify: globalJSON.stringify});
    // The methods and static functions of the built-ins, taken as they were and called as plain
    // functions, as Node's own internals do (its "primordials"): user code may replace
    // Array.prototype.push, Function.prototype.call, Map.prototype.get, fs.readSync... For the same
    // reason the driver iterates over arrays with indices (for...of and spread call the
    // replaceable Array.prototype[Symbol.iterator]).
    const uncurryThis = Function.prototype.bind.bind(Function.prototype.call);
    const methodsOf = (prototype, names) => {
        const taken = {};
        for (let i = 0; i < names.length; ++i) taken[names[i]] = uncurryThis(prototype[names[i]]);
        return taken;
    };
    const getterOf = (prototype, name) =>
        uncurryThis(Object.getOwnPropertyDescriptor(prototype, name).get);
    const {apply: ReflectApply, construct: ReflectConstruct} = Reflect;
    const {
        load: AtomicsLoad, store: AtomicsStore, wait: AtomicsWait, notify: AtomicsNotify,
        compareExchange: AtomicsCompareExchange, add: AtomicsAdd, sub: AtomicsSub, or: AtomicsOr,
        and: AtomicsAnd
    } = Atomics;
    const {
        isFinite: NumberIsFinite, isInteger: NumberIsInteger, isSafeInteger: NumberIsSafeInteger
    } = Number;
    const {
        from: BufferFrom, alloc: BufferAlloc, allocUnsafe: BufferAllocUnsafe, concat: BufferConcat,
        isBuffer: BufferIsBuffer, byteLength: BufferByteLength
    } = Buffer;
    const ArrayBufferIsView = ArrayBuffer.isView;
    const {
        push: ArrayPush, shift: ArrayShift, splice: ArraySplice, includes: ArrayIncludes,
        lastIndexOf: ArrayLastIndexOf
    } = methodsOf(Array.prototype, ['push', 'shift', 'splice', 'includes', 'lastIndexOf']);
    const {
        slice: StringSlice, includes: StringIncludes, startsWith: StringStartsWith,
        indexOf: StringIndexOf, replace: StringReplace
    } = methodsOf(String.prototype, ['slice', 'includes', 'startsWith', 'indexOf', 'replace']);
    const {get: MapGet, set: MapSet, has: MapHas, delete: MapDelete, clear: MapClear,
           forEach: MapForEach} =
        methodsOf(Map.prototype, ['get', 'set', 'has', 'delete', 'clear', 'forEach']);
    const MapSize = getterOf(Map.prototype, 'size');
    const {has: SetHas, add: SetAdd, forEach: SetForEach} =
        methodsOf(Set.prototype, ['has', 'add', 'forEach']);
    const {get: WeakMapGet, set: WeakMapSet, has: WeakMapHas} =
        methodsOf(WeakMap.prototype, ['get', 'set', 'has']);
    const {deref: WeakRefDeref} = methodsOf(WeakRef.prototype, ['deref']);
    const {then: PromiseThen} = methodsOf(Promise.prototype, ['then']);
    const PromiseResolve = (value) => ReflectApply(Promise.resolve, Promise, [value]);
    const {exec: RegExpExec} = methodsOf(RegExp.prototype, ['exec']);
    const RegExpTest = (pattern, text) => RegExpExec(pattern, text) !== null;
    const {bind: FunctionBind, toString: FunctionToString} =
        methodsOf(Function.prototype, ['bind', 'toString']);
    const ObjectToString = uncurryThis(Object.prototype.toString);
    const {subarray: TypedArraySubarray} =
        methodsOf(Object.getPrototypeOf(Uint8Array.prototype), ['subarray']);
    const TypedArrayLength = getterOf(Object.getPrototypeOf(Uint8Array.prototype), 'length');
    const {set: TypedArraySet} = methodsOf(Object.getPrototypeOf(Uint8Array.prototype), ['set']);
    // (Buffer's toString and from call these through the buffer: not taken as they are.)
    const {
        indexOf: BufferIndexOf, utf8Slice: BufferUtf8Slice, base64Slice: BufferBase64Slice,
        utf8Write: BufferUtf8Write, base64Write: BufferBase64Write
    } = methodsOf(
        Buffer.prototype, ['indexOf', 'utf8Slice', 'base64Slice', 'utf8Write', 'base64Write']);
    const textOf = (bytes, start = 0, end = TypedArrayLength(bytes)) =>
        BufferUtf8Slice(bytes, start, end);
    const base64Of = (bytes) => BufferBase64Slice(bytes, 0, TypedArrayLength(bytes));
    // Buffer.from(text, encoding) for UTF-8 and base64.
    function bytesOfText(text, encoding = 'utf8') {
        const bytes = BufferAllocUnsafe(BufferByteLength(text, encoding));
        const write = encoding === 'base64' ? BufferBase64Write : BufferUtf8Write;
        const length = write(bytes, text, 0, TypedArrayLength(bytes));
        return length === TypedArrayLength(bytes) ? bytes : TypedArraySubarray(bytes, 0, length);
    }
    function copyOf(bytes) {
        const copy = BufferAllocUnsafe(TypedArrayLength(bytes));
        TypedArraySet(copy, bytes);
        return copy;
    }
    // The names an export may not take: the globals of the language (and of Node's REPL).
    const LANGUAGE_GLOBALS = new Set(Reflect.ownKeys(globalThis));
    const fs = require('fs');
    const {
        readSync, writeSync, openSync, closeSync, fstatSync, ftruncateSync, unlinkSync
    } = fs;
    const {isUtf8} = require('buffer');
    const {on: EmitterOn, emit: EmitterEmit} =
        methodsOf(require('events').prototype, ['on', 'emit']);
    const {
        exit: processExit, kill: processKill, _tickCallback: processTickCallback,
        binding: processBinding, getActiveResourcesInfo: processActiveResources, pid: PID
    } = process;
    const processRss = process.memoryUsage.rss;

    const STDERR_READY_MARK = '\n__bond_driver_ready__\n';
    const OUTPUT_CHUNK = 1 << 20;  // bytes per output message at most

    const vm = require('vm');
    // (vm's own runInThisContext and runInNewContext call the methods of Script.prototype.)
    const {Script, createContext} = vm;
    const {runInThisContext: ScriptRunInThisContext, runInContext: ScriptRunInContext} =
        methodsOf(vm.Script.prototype, ['runInThisContext', 'runInContext']);
    const runInThisContext = (code, options = {}) =>
        ScriptRunInThisContext(new Script(code, options), options);
    const runInNewContext = (code) => ScriptRunInContext(new Script(code), createContext());
    const util = require('util');
    const {inspect} = util;
    const {Worker, MessageChannel, MessagePort, receiveMessageOnPort} = require('worker_threads');
    const {postMessage: PortPostMessage, close: PortClose} =
        methodsOf(MessagePort.prototype, ['postMessage', 'close']);
    // Node's built-in modules the driver loads where first needed, not through Module._load,
    // which user code may replace (the driver's own wrappers of it call the original).
    const Module = require('module');
    const ModuleLoad = Module._load;
    const requireBuiltin = (name) => ReflectApply(ModuleLoad, Module, [name, null, false]);

    // Memory the driver's threads share: the main thread and the watcher (see The serving loop).
    const shared = new Int32Array(new SharedArrayBuffer(36));
    const LINES = 0;    // counts messages passed on by the watcher
    const WRITING = 1;  // the protocol's output is being written (a lock of both threads)
    // 1: user code runs where a SIGINT stops it; 2: the watcher sent that SIGINT.
    const RUNNING = 2;
    const STOPS = 3;      // the watcher passed on a stop the main thread has not taken
    const INPUT = 4;      // who reads the protocol's input: BUSY and WATCHED bits
    const READS = 5;      // counts the messages the main thread took
    const ARMED = 6;      // the watcher watches the main thread (else it sleeps)
    const TAKEOVERS = 7;  // counts the times the watcher took the input
    const GUARDED = 8;    // runGuarded calls under way: user code is on the stack
    const BUSY = 1, WATCHED = 2;

    // The descriptors main() serves with (see takeDescriptors and spawnDriver): the protocol's
    // output, the original stderr, the output files; the input's descriptions for the main
    // thread (null: the watcher holds the input for good).
    let protocolOut = -1, originalStderr = 2, outputFiles = [];
    let inputFds = null, canRead = false;
    // The watcher thread and its ports: its messages to the main thread (inbox), the limits of
    // the running request to it (control).
    let watcher = null, inbox = null, control = null;

    const WATCH_MS = 20;
    const CLOSE_GRACE_MS = 2000;
    const READ_CHUNK = 1 << 16;

    // --- Channels and output ---------------------------------------------------------------------
    function outputLine(channel, bytes) {
        const data = isUtf8(bytes) ? textOf(bytes) : {$bytes: base64Of(bytes)};
        return JSON.stringify({jsonrpc: '2.0', method: 'output', params: {channel, data}}) + '\n';
    }

    function writeAll(fd, data) {
        let bytes = data;
        if (typeof data === 'string') {
            let written = 0;
            try {
                written = writeSync(fd, data);  // mostly all of it
            } catch (error) {
                if (error.code !== 'EAGAIN') throw error;
            }
            if (written === BufferByteLength(data)) return;
            bytes = TypedArraySubarray(bytesOfText(data), written);
        }
        for (let offset = 0; offset < bytes.length;) {
            try {
                offset += writeSync(fd, bytes, offset);
            } catch (error) {
                // A non-blocking descriptor shared with the launcher (see spawnDriver): wait a
                // little for the host to read.
                if (error.code !== 'EAGAIN') throw error;
                AtomicsWait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
            }
        }
    }

    // Reads the unread part of an output file (fd 1 or 2 of the driver) and hands it, in chunks,
    // to `send`. The file is emptied once read, so that it does not grow with everything ever
    // written: a background process writing in between read and truncation loses that output.
    // Its writers append (O_APPEND), so they write at its start again, not after a hole.
    let drainBuffer = null;
    function drainOutputFile(readFd, writeFd, channel, send) {
        const buffer = drainBuffer ??= BufferAllocUnsafe(OUTPUT_CHUNK);
        let offset = 0;
        for (;;) {
            const length = readSync(readFd, buffer, 0, buffer.length, offset);
            if (length === 0) break;
            offset += length;
            send(outputLine(channel, TypedArraySubarray(buffer, 0, length)));
        }
        if (offset > 0) ftruncateSync(writeFd, 0);
    }

    // The protocol's pipes are the REPL's stdin and stdout. They get descriptions of their own,
    // opened again through /proc: not inherited by child processes (Node opens with O_CLOEXEC),
    // blocking or not as each reader wants. Node cannot dup2(): descriptors 0, 1 and 2 are then
    // closed and opened again, which gives them the lowest free numbers: 0 reads /dev/null, 1
    // and 2 append to unlinked temporary files that the driver reads and forwards (output of
    // child processes then never corrupts the protocol, and comes in order with the messages).
    // (libuv clears O_CLOEXEC on the descriptors a child process inherits.) Where the pipes
    // cannot be opened again (no /proc, or pipes of another user: sudo), null: see spawnDriver.
    function takeDescriptors() {
        const again = (fd, flags) => {
            try {
                return openSync(`/proc/self/fd/${fd}`, flags);
            } catch (error) {
                return null;
            }
        };
        const input = [again(0, 'r'), again(0, 'r'), again(0, 'r')];
        const protocolOut = again(1, 'w');
        const originalStderr = again(2, 'w');
        const opened = [...input, protocolOut, originalStderr];
        if (opened.includes(null)) {
            for (const fd of opened)
                if (fd !== null) closeSync(fd);
            return null;
        }
        stopRepl();
        const expect = (fd, wanted) => {
            if (fd !== wanted) throw new Error(`descriptor ${wanted} was taken (got ${fd})`);
            return fd;
        };
        closeSync(0);
        expect(openSync('/dev/null', 'r'), 0);
        // process.stdin as node makes it for a file (the REPL's was the pipe's, destroyed).
        let stdin = null;
        Object.defineProperty(process, 'stdin', {
            configurable: true,
            enumerable: true,
            get: () => stdin ??= new fs.ReadStream(null, {fd: 0, autoClose: false}),
        });
        closeSync(1);
        const stdout = outputFile('stdout', (fd) => expect(fd, 1), originalStderr);
        closeSync(2);
        const stderr = outputFile('stderr', (fd) => expect(fd, 2), originalStderr);
        return {input, protocolOut, originalStderr, outputFiles: [stdout, stderr]};
    }
    // The REPL would go on reading stdin (pause() does not last): close it here, without
    // letting the REPL see the end, which would make it exit.
    function stopRepl() {
        process.stdin.removeAllListeners();
        process.stdin.destroy();
    }
    // An output file, opened for appending (see drainOutputFile) and for reading, unlinked. In
    // $TMPDIR when it is set; else /tmp, and where that is read-only /dev/shm: a sandbox with a
    // read-only /tmp (bwrap --ro-bind / /) still has a memory file system there (bwrap --dev
    // /dev). None: the reason on stderr, and exit.
    function outputFile(channel, check, stderr) {
        const os = require('os');
        const path = require('path');
        const directories = process.env.TMPDIR ? [os.tmpdir()] : [os.tmpdir(), '/dev/shm'];
        for (const [index, directory] of directories.entries()) {
            const name = path.join(
                directory, `bond-${process.pid}-${channel}-${Math.random().toString(36).slice(2)}`);
            try {
                const write = check(openSync(name, 'ax', 0o600));
                const read = openSync(name, 'r');
                unlinkSync(name);
                return {read, write, channel};
            } catch (error) {
                if (index === directories.length - 1) {
                    writeAll(stderr, `bond driver: cannot start the driver: ${error.message}\n`);
                    processExit(70);
                }
            }
        }
    }

    // Where the pipes cannot be opened again, a second process serves.
    // This process (the launcher) starts a second node, the driver, whose descriptors 1 and 2
    // are the output files (Node's spawn arranges what dup2 would) and which gets the protocol's
    // pipes as 3 and 4; it then only waits: it forwards what the driver's files still hold when
    // the driver ends (a fatal error of V8, say), and ends the same way. A second node start-up,
    // and the watcher holds the input for good (see The serving loop).
    function spawnDriver(driverSource) {
        // A failure here must end the launcher with a message, not leave the REPL waiting.
        process.on('uncaughtException', (error) => {
            writeAll(2, `bond driver: cannot start the driver: ${error.message}\n`);
            processExit(70);
        });
        process.on('SIGINT', () => {});  // an interrupt is for the driver, not for the launcher
        const files = ['stdout', 'stderr'].map((channel) => outputFile(channel, (fd) => fd, 2));
        const nodeOptions = process.execArgv.filter((o) => o !== '-i' && o !== '--interactive');
        // Compiled under a file name of its own: the user's code without a file is node -e's
        // "[eval]", and its errors' stacks leave the driver's frames out (stackOf).
        const driver = require('child_process').spawn(
            process.execPath,
            [
                ...nodeOptions, '-e',
                `require('vm').runInThisContext(${JSON.stringify(`(${driverSource})`)}, ` +
                    `{filename: '<bond-driver>'})('driver', null, ${JSON.stringify(watcherSource)})`
            ],
            {
                stdio: [
                    'ignore', files[0].write, files[1].write, 0, 1, 2, files[0].read,
                    files[1].read
                ]
            });
        stopRepl();
        driver.on('error', (error) => {
            writeAll(2, `bond driver: cannot start ${process.execPath}: ${error.message}\n`);
            processExit(70);
        });
        // A signal that ends the launcher must end the driver first: the host's waitpid() of
        // the launcher then means the driver is gone too, not a zombie waiting for init.
        for (const signal of ['SIGTERM', 'SIGHUP']) process.on(signal, () => driver.kill(signal));
        driver.on('exit', (code, signal) => {
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
                processKill(PID, signal);
            }
            processExit(code === null ? 70 : code);
        });
    }
    // The driver's side: descriptors as spawnDriver arranged them.
    function mainOfSpawnedDriver() {
        main({
            input: null,
            protocolIn: 3,
            protocolOut: 4,
            originalStderr: 5,
            outputFiles: [
                {read: 6, write: 1, channel: 'stdout'},
                {read: 7, write: 2, channel: 'stderr'},
            ],
        });
    }

    // Node's bindings, for the SIGINT watchdog, to see whether the event loop has work and
    // what may write to descriptors 1 and 2; null where refused.
    function binding(name) {
        const warn = process.emitWarning;
        process.emitWarning = () => {};  // "Access to process.binding(...) is deprecated"
        try {
            return ReflectApply(processBinding, process, [name]);
        } catch (error) {
            return null;
        } finally {
            process.emitWarning = warn;
        }
    }

    // Writing: every message first forwards the output files, so that output written
    // before a reply (by a child process too) reaches the host before the reply; that is,
    // once something may write to them (watchDescriptorWriters, below): two preads a
    // message otherwise spent on files nothing writes.
    let writingMessage = false;
    let descriptorsWritten = false;  // (set by main)

    function drainOutputFiles(always) {
        if (!descriptorsWritten && !always) return;
        for (let i = 0; i < outputFiles.length; ++i) {
            const file = outputFiles[i];
            drainOutputFile(
                file.read, file.write, file.channel, (line) => writeAll(protocolOut, line));
        }
    }
    // The watcher writes too (a `limit` notification): a lock of both threads.
    // Proxies collected since the last message are released first (see Objects).
    function sendLine(line) {
        const release = releaseLine();
        writingMessage = true;
        while (AtomicsCompareExchange(shared, WRITING, 0, 1) !== 0)
            AtomicsWait(shared, WRITING, 1);
        try {
            if (release !== '') writeAll(protocolOut, release);
            drainOutputFiles();
            writeAll(protocolOut, line);
        } finally {
            AtomicsStore(shared, WRITING, 0);
            AtomicsNotify(shared, WRITING);
            writingMessage = false;
        }
    }
    function sendOutput(channel, bytes) {
        if (writingMessage) return;  // only a bug of this driver could print here
        for (let start = 0; start < bytes.length; start += OUTPUT_CHUNK)
            sendLine(outputLine(channel, TypedArraySubarray(bytes, start, start + OUTPUT_CHUNK)));
    }

    // Output reaches descriptors 1 and 2 (the files) only through process.stdout and
    // process.stderr (sent at once, not there) until something else writes to them: a
    // child process, a Worker, native code (an addon, WASI, V8's and the inspector's own
    // printing), an fs write to them. Each is noted here when it first happens, and from
    // then on the files are read before every message.
    function watchDescriptorWriters() {
        if (descriptorsWritten) return;
        const note = () => {
            descriptorsWritten = true;
        };
        // Wraps object[name], a function, so that calls for which `writes(args)` is true (all
        // calls by default) note it; a missing one (another Node) gives up: read always.
        function watchCalls(object, name, writes = () => true) {
            const original = object !== null && object !== undefined ? object[name] : undefined;
            if (typeof original !== 'function') return note();
            const watched = function(...args) {
                if (!descriptorsWritten && writes(args)) note();
                return new.target ? ReflectConstruct(original, args, new.target) :
                                    ReflectApply(original, this, args);
            };
            Object.defineProperty(watched, 'name', {value: original.name});
            watched.prototype = original.prototype;
            object[name] = watched;
        }
        const OUR_DESCRIPTORS =
            /^\/(dev\/(stdout|stderr|fd\/[12])|proc\/(self|thread-self|\d+)\/fd\/[12])$/;
        const isOurs = (target) => target === 1 || target === 2 ||
            (typeof target === 'string' && RegExpTest(OUR_DESCRIPTORS, target));
        try {
            watchCalls(binding('process_wrap').Process.prototype, 'spawn');
            watchCalls(binding('spawn_sync'), 'spawn');
            const fsBinding = binding('fs');
            for (const name of ['writeBuffer', 'writeBuffers', 'writeString', 'writeFileUtf8'])
                if (name in fsBinding) watchCalls(fsBinding, name, (args) => isOurs(args[0]));
            for (const name of ['open', 'openFileHandle'])
                watchCalls(fsBinding, name, (args) => isOurs(args[0]));
            watchCalls(fsBinding, 'copyFile', (args) => isOurs(args[1]));
            watchCalls(process, 'dlopen');
            watchCalls(process, '_rawDebug');
            // Modules with such functions, watched when first required (loading them here
            // took milliseconds of start-up): WASI writes to the descriptors itself.
            const watchedModules = {
                wasi: note,
                v8: (module) => watchCalls(module, 'setFlagsFromString'),
                inspector: (module) => watchCalls(module, 'open'),
            };
            const load = Module._load;
            Module._load = function(request) {
                const loaded = ReflectApply(load, this, arguments);
                const name = typeof request !== 'string' ? '' :
                    StringStartsWith(request, 'node:') ? StringSlice(request, 5) : request;
                if (Object.hasOwn(watchedModules, name)) {
                    const watch = watchedModules[name];
                    delete watchedModules[name];
                    watch(loaded);
                }
                return loaded;
            };
            process.on('worker', (worker) => {
                if (worker !== watcher) note();  // (Node tells of the watcher late)
            });
        } catch (error) {
            note();
        }
        // V8's and Node's own printing, asked for on the command line.
        const printing = /^--(trace|prof|inspect|print|log|cpu-prof|heap-prof|debug)/;
        if (process.execArgv.some((option) => printing.test(option))) note();
    }

    // --- Values ----------------------------------------------------------------------------------
    // Values are JSON with tags (docs/protocol.md, Values): encode and decode below are the
    // one place of each. What JSON has no word for but is an object of the language crosses
    // as a handle, an entry of the table (see Objects).
    class SerializationError extends Error {}
    const {isBoxedPrimitive, isSymbolObject, isMap, isSet, isNativeError} = util.types;
    const {
        getPrototypeOf, hasOwn, keys: ownKeys, defineProperty, getOwnPropertyDescriptor
    } = Object;
    const ObjectPrototype = Object.prototype, isArray = Array.isArray;

    // String.prototype.isWellFormed is new in Node 20.
    const isWellFormed = String.prototype.isWellFormed ?
        uncurryThis(String.prototype.isWellFormed) :
        (text) => !RegExpTest(/\p{Surrogate}/u, text);
    function isBytes(value) {
        return value instanceof Uint8Array || value instanceof ArrayBuffer ||
            value instanceof DataView;
    }
    function bytesOf(value) {
        if (value instanceof ArrayBuffer) return BufferFrom(value);
        return BufferFrom(value.buffer, value.byteOffset, value.byteLength);
    }
    // The type name a held value is sent with: its constructor's name (Tally, Promise, Map),
    // else its toStringTag (Generator); `function` for functions and classes; typeof for the
    // other values (kept ones: number, string, ...).
    function typeName(value) {
        if (value === null) return 'null';
        const type = typeof value;
        if (type === 'function') return 'function';
        if (type !== 'object') return type;
        let name;
        try {
            for (let prototype = getPrototypeOf(value);
                 prototype !== null && name === undefined;
                 prototype = getPrototypeOf(prototype)) {
                const constructor = getOwnPropertyDescriptor(prototype, 'constructor');
                if (constructor !== undefined && typeof constructor.value === 'function' &&
                    typeof constructor.value.name === 'string' && constructor.value.name !== '')
                    name = constructor.value.name;
            }
            if (name === undefined || name === 'Object') {
                const tag = StringSlice(ObjectToString(value), 8, -1);
                if (tag !== 'Object') name = tag;
            }
        } catch (error) {
            // A Proxy of the code's whose traps throw: no better name.
        }
        return name ?? 'Object';
    }

    // The value a `keep` request answers with: held, whatever it is.
    class Kept {
        constructor(value) { this.value = value; }
    }
    // The handle of a value: the proxy's own number for a proxy of the host's object, else a
    // new entry of the table.
    function handleOf(value) {
        const proxy = WeakMapGet(proxies, value);
        if (proxy !== undefined) return {$yours: proxy.number};
        return {$obj: hold(value), type: typeName(value)};
    }

    // JSON.stringify's replacer sees a value after its toJSON; `this[key]` is the value itself.
    // Values: plain objects (of Object.prototype or none) and arrays, what has a toJSON (Date:
    // its ISO string), boxed primitives, typed arrays as arrays of numbers and bytes as
    // $bytes, as before; any other object, a function or a Symbol is held (handleOf).
    function replacer(key, value) {
        const original = this[key];
        if (isBytes(original)) return {$bytes: base64Of(bytesOf(original))};
        switch (typeof value) {
            case 'number':
                if (!NumberIsFinite(value))
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
                return handleOf(value);
            case 'object': {
                if (value === null) return value;
                const prototype = getPrototypeOf(value);
                if (prototype === ObjectPrototype || prototype === null || isArray(value))
                    return value;
                if (prototype === Kept.prototype) return handleOf(value.value);
                if (ArrayBufferIsView(value)) {  // Float64Array, ...
                    const numbers = [];
                    for (let i = 0, length = TypedArrayLength(value); i < length; ++i)
                        numbers[i] = value[i];
                    return numbers;
                }
                if (isBoxedPrimitive(value) && !isSymbolObject(value)) return value;
                return handleOf(value);
            }
            default:
                return value;  // undefined: null in arrays, left out in objects
        }
    }
    // Integers beyond Number's 53 bits cross as BigInt, exactly: JSON.parse and stringify
    // know no BigInt, so such numbers travel through them as marked strings.
    // (Math.random, not the crypto module: loading that took 5 to 10 ms of start-up.)
    const randomText = () => StringSlice(Math.random().toString(36), 2);
    const BIGINT_MARK = `bond-bigint-${randomText()}${randomText()}:`;
    const ENCODED_BIGINT = new RegExp(`"${BIGINT_MARK}(-?\\d+)"`, 'g');
    const INT64_MIN = -(2n ** 63n), UINT64_MAX = 2n ** 64n - 1n;
    let encodedBigInt = false;

    // The line of a message. A message that fails leaves nothing in the table.
    function encode(message) {
        encodedBigInt = false;
        const heldBefore = lastHeld;
        let line;
        try {
            line = JSON.stringify(message, replacer);
        } catch (error) {
            dropHeld(heldBefore);
            if (error instanceof SerializationError) throw error;
            // JSON.stringify's own: "Converting circular structure to JSON ...".
            throw new SerializationError(firstLine(error.message));
        }
        return (encodedBigInt ? StringReplace(line, ENCODED_BIGINT, '$1') : line) + '\n';
    }

    const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
    function revive(key, value) {
        if (typeof value === 'string')
            return StringStartsWith(value, BIGINT_MARK) ?
                BigInt(StringSlice(value, BIGINT_MARK.length)) : value;
        if (value !== null && typeof value === 'object' && !isArray(value)) {
            const names = ownKeys(value);
            if (names.length === 1 && names[0] === '$bytes' &&
                typeof value.$bytes === 'string' && RegExpTest(BASE64, value.$bytes))
                return bytesOfText(value.$bytes, 'base64');
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
                for (++i; i < line.length && StringIncludes('0123456789.eE+-', line[i]); ++i)
                    ;
                const token = StringSlice(line, start, i);
                if (RegExpTest(/^-?\d+$/, token) && !NumberIsSafeInteger(Number(token))) {
                    marked +=
                        StringSlice(line, copied, start) + JSON.stringify(BIGINT_MARK + token);
                    copied = i;
                }
            } else {
                ++i;
            }
        }
        return copied === 0 ? null : marked + StringSlice(line, copied);
    }
    // A message that may hold tags other than $bytes (a string starting with $: a key or a
    // value) has TAGGED set: its values are decoded further by decodeTags, where they are used.
    const TAGGED = Symbol('tagged');
    function decode(line) {
        const dollar = StringIncludes(line, '"$');
        // The reviver walks every value: only run it where bytes or big integers may be.
        const marked = RegExpTest(/\d{16}/, line) ? markBigIntegers(line) : null;
        let message;
        if (marked !== null)
            message = JSON.parse(marked, revive);
        else if (dollar && StringIncludes(line, '"$bytes"'))
            message = JSON.parse(line, revive);
        else
            message = JSON.parse(line);
        if (dollar && message !== null && typeof message === 'object') message[TAGGED] = true;
        return message;
    }
    // A value of a message, its tags $code (evaluated), $obj (a proxy) and $yours (the
    // table's entry) replaced, in place: unknown numbers raise InvalidParams.
    function decodeTags(value) {
        if (value === null || typeof value !== 'object' || BufferIsBuffer(value)) return value;
        if (isArray(value)) {
            for (let i = 0; i < value.length; ++i) {
                const item = value[i];
                if (item !== null && typeof item === 'object') {
                    const decoded = decodeTags(item);
                    if (decoded !== item) value[i] = decoded;
                }
            }
            return value;
        }
        const names = ownKeys(value);
        if (names.length === 1) {
            if (names[0] === '$code' && typeof value.$code === 'string')
                return evaluate(value.$code);
            if (names[0] === '$yours' && isObjectNumber(value.$yours))
                return heldValue(value.$yours);
        } else if (names.length === 2 && hasOwn(value, '$obj') &&
                   typeof value.type === 'string' && isObjectNumber(value.$obj)) {
            return makeProxy(value.$obj, value.type);
        }
        for (let i = 0; i < names.length; ++i) {
            const name = names[i];
            const item = value[name];
            if (item !== null && typeof item === 'object') {
                const decoded = decodeTags(item);
                // (defined: an own "__proto__" is a property, not the prototype)
                if (decoded !== item)
                    defineProperty(
                        value, name,
                        {value: decoded, writable: true, enumerable: true, configurable: true});
            }
        }
        return value;
    }

    // Objects (docs/protocol.md, Objects).
    // The table: the driver's values the host holds, by number; numbers are never reused,
    // each send of a value is a new entry, and the host's `release` drops entries.
    const held = new Map();
    let lastHeld = 0;
    function hold(value) {
        MapSet(held, ++lastHeld, value);
        return lastHeld;
    }
    // Drops the entries made after `last` (by a message that was not sent).
    function dropHeld(last, until = lastHeld) {
        for (let number = last + 1; number <= until; ++number) MapDelete(held, number);
    }
    function isObjectNumber(number) {
        return (typeof number === 'number' && NumberIsInteger(number) && number >= 0) ||
            (typeof number === 'bigint' && number >= 0n);
    }
    function heldValue(number) {
        const value = MapGet(held, number);
        if (value === undefined && !MapHas(held, number))
            throw new InvalidParams(
                `no object ${number} in the table: it was released or never held`);
        return value;
    }
    function heldParam(params) {
        if (!isObjectNumber(params.object))
            throw new InvalidParams('"object" must be the number of an object in the table');
        return heldValue(params.object);
    }
    function nameParam(params, key, nullable) {
        const name = params[key] ?? null;
        if ((name === null && !nullable) || (name !== null && typeof name !== 'string'))
            throw new InvalidParams(`"${key}" must be a string${nullable ? ' or null' : ''}`);
        return name;
    }

    // `get` of a function answers it bound to its object (a method: the proxies of Python and
    // JavaScript read a method, then call what they got); not a class, nor a proxy (handed
    // back as itself, $yours).
    function isClass(value) {
        return RegExpTest(/^class\b/, FunctionToString(value));
    }
    function attributeOf(object, name) {
        const value = object[name];
        if (typeof value !== 'function' || WeakMapHas(proxies, value) || isClass(value))
            return value;
        return FunctionBind(value, object);
    }
    // `get` with name null: the object as a value, copied where JSON can carry the copy: a
    // Map with string keys as an object, a Set as an array, an instance of the code's own
    // class as its own enumerable properties (what JSON.stringify makes of it); a Promise
    // awaited (Awaited). Anything else goes back as a handle again.
    const NATIVE_CODE = /\{\s*\[native code\]\s*\}\s*$/;
    function asValue(object) {
        if (object === null || typeof object !== 'object') return object;
        const prototype = getPrototypeOf(object);
        if (prototype === ObjectPrototype || prototype === null || isArray(object) ||
            isBytes(object) || typeof object.toJSON === 'function')
            return object;
        if (isThenable(object)) return new Awaited(object);
        if (isMap(object)) {
            const copy = {};
            let stringKeys = true;
            MapForEach(object, (value, key) => {
                if (typeof key !== 'string') stringKeys = false;
                defineProperty(
                    copy, key, {value, writable: true, enumerable: true, configurable: true});
            });
            return stringKeys ? copy : object;
        }
        if (isSet(object)) {
            const copy = [];
            SetForEach(object, (value) => ArrayPush(copy, value));
            return copy;
        }
        if (object instanceof Error || isNativeError(object)) return object;
        const constructor = object.constructor;
        if (typeof constructor === 'function' && constructor !== Object &&
            RegExpTest(NATIVE_CODE, FunctionToString(constructor)))
            return object;  // a built-in's: RegExp, WeakMap, a generator, ...
        return {...object};
    }

    // Proxies of the host's objects: a Proxy over a function (so that it can be called),
    // whose traps send the host `get`, `set` and `invoke` (request, as exported functions do).
    // A few names are answered here: `then` (undefined: a proxy is no thenable, which
    // `await` and the driver's own Promise handling would call), `toJSON` (undefined: the
    // driver's encoding asks for it) and `toString` and Symbol.toPrimitive (its
    // description); util.inspect shows the target, which has the description too. When
    // the proxy is collected, its number goes to the host in a `release` (sendLine).
    const proxies = new WeakMap();  // a proxy and its target -> {number, type}
    const describe = (proxy) =>
        proxy !== undefined ? `<bond proxy of ${proxy.type} #${proxy.number}>` : '<bond proxy>';
    function describeProxy() { return describe(WeakMapGet(proxies, this)); }
    const inspectCustom = util.inspect.custom;
    const proxyTraps = {
        get(target, key) {
            if (typeof key === 'symbol')
                return key === Symbol.toPrimitive || key === inspectCustom ? describeProxy :
                                                                             undefined;
            if (key === 'then' || key === 'toJSON') return undefined;
            if (key === 'toString') return describeProxy;
            const proxy = WeakMapGet(proxies, target);
            return request(
                'get', {object: proxy.number, name: key}, `${describe(proxy)}.${key}`);
        },
        set(target, key, value) {
            if (typeof key === 'symbol') return false;
            const proxy = WeakMapGet(proxies, target);
            request(
                'set', {object: proxy.number, name: key, value}, `${describe(proxy)}.${key} =`);
            return true;
        },
        apply(target, self, args) {
            const proxy = WeakMapGet(proxies, target);
            return request(
                'invoke', {object: proxy.number, method: null, args}, `${describe(proxy)}()`);
        },
        deleteProperty(target, key) {
            throw new TypeError(
                `cannot delete ${String(key)} of ${describe(WeakMapGet(proxies, target))}`);
        },
        defineProperty(target, key) {
            throw new TypeError(
                `cannot define ${String(key)} of ${describe(WeakMapGet(proxies, target))}`);
        },
    };
    let liveProxies = 0;
    // One proxy per number, so that an object the host sends twice in one message is one proxy
    // here (=== holds); the entry goes when the proxy is collected.
    const proxiesByNumber = new Map();  // number -> WeakRef of its proxy
    function makeProxy(number, type) {
        const reference = MapGet(proxiesByNumber, number);
        const known = reference !== undefined ? WeakRefDeref(reference) : undefined;
        if (known !== undefined) return known;
        const target = () => {};
        defineProperty(target, inspectCustom, {value: describeProxy, configurable: true});
        const proxy = new Proxy(target, proxyTraps);
        const about = {number, type};
        WeakMapSet(proxies, target, about);
        WeakMapSet(proxies, proxy, about);
        registerProxy(proxy, number);
        MapSet(proxiesByNumber, number, new WeakRef(proxy));
        ++liveProxies;
        return proxy;
    }
    const isProxy = (value) => typeof value === 'function' && WeakMapHas(proxies, value);

    // Collected proxies' numbers wait in `released` for the next message (sendLine). The
    // registry's callbacks run as tasks of the event loop, which a driver that serves
    // requests one after another without it (serveQueued) may not run for long:
    // FinalizationRegistry.prototype.cleanupSome, where V8 has it (behind a flag, in
    // contexts made after the flag is set), runs them before each message instead. Without
    // it, the driver lets the event loop run between requests while proxies live.
    const released = [];
    let registry = null, cleanupSome = null;
    let register = FinalizationRegistry.prototype.register;  // (the registry's realm's)
    function registerProxy(proxy, number) {
        ReflectApply(register, releaseRegistry(), [proxy, number]);
    }
    function releaseRegistry() {
        if (registry !== null) return registry;
        const collected = (number) => {
            --liveProxies;
            MapDelete(proxiesByNumber, number);
            ArrayPush(released, number);
        };
        outsideUserCode(() => {
            try {
                setV8FlagQuietly('--harmony-weak-refs-with-cleanup-some');
                const Registry = runInNewContext('FinalizationRegistry');
                const made = new Registry(collected);
                if (typeof made.cleanupSome === 'function') {
                    const cleanup = made.cleanupSome;
                    cleanupSome = () => ReflectApply(cleanup, made, []);
                    register = made.register;  // of a context of its own: user code's is apart
                    registry = made;
                }
            } catch (error) {
                // No flags (process.binding refused): the event loop's turns.
            }
        });
        registry ??= new FinalizationRegistry(collected);
        return registry;
    }
    // V8 writes a flag it does not know to stderr (the output file): taken back.
    function setV8FlagQuietly(flag) {
        let stderr;
        for (let i = 0; i < outputFiles.length; ++i)
            if (outputFiles[i].channel === 'stderr') stderr = outputFiles[i];
        const sizeBefore = stderr !== undefined ? fstatSync(stderr.read).size : 0;
        binding('v8').setFlagsFromString(flag);
        if (stderr === undefined) return;
        const size = fstatSync(stderr.read).size;
        if (size === sizeBefore) return;
        const written = BufferAlloc(size - sizeBefore);
        readSync(stderr.read, written, 0, written.length, sizeBefore);
        if (BufferIndexOf(written, 'unrecognized flag') !== -1)
            ftruncateSync(stderr.write, sizeBefore);
    }
    // The `release` notification of the proxies collected so far, or ''.
    function releaseLine() {
        if (cleanupSome !== null && liveProxies > 0) cleanupSome();
        if (released.length === 0) return '';
        const objects = ArraySplice(released, 0);
        return JSON.stringify({jsonrpc: '2.0', method: 'release', params: {objects}}) + '\n';
    }

    // --- Stopping and limits ---------------------------------------------------------------------
    // Stopping running code (docs/protocol.md, Limits).
    // The watcher sees an `interrupt` while code runs (see The serving loop) and sends SIGINT: user
    // code runs inside a vm script with breakOnSigint, which V8 ends there (JavaScript cannot
    // catch it), however deep the code is. CPU and memory limits are watched by the watcher
    // too. An interrupt the main thread reads itself (between pieces of user code, or
    // before code that returned a Promise settles) is noted at once.
    // A stop that comes while the driver's own code runs ends the user code at the next
    // safe point (user code starting, an exported function returning, output written) the
    // same way.
    class Interrupted extends Error {}
    Object.defineProperty(Interrupted.prototype, 'name', {value: 'Interrupted'});

    // Ids of the host's requests not answered yet (an array: they are few, and a Set
    // shrinks, a new table, at every delete).
    const received = [];
    let stop = null;             // {id, limit, raised} of the operation being stopped

    function noteStop(id, limit) {
        if (stop !== null || !ArrayIncludes(received, id)) return;  // stale: its reply crossed it
        stop = {id, limit, raised: false};
        // Awaiting a Promise, with nothing of it running: stop waiting for it. (Code waiting
        // for an exported function is stopped when that returns.)
        if (current !== null && current.id === id && AtomicsLoad(shared, RUNNING) === 0 &&
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
        if (AtomicsLoad(shared, STOPS) !== 0 || queuedInterrupts > 0)
            outsideUserCode(takeStops);
        if (stop !== null && !stop.raised && AtomicsLoad(shared, RUNNING) !== 0) stopNow();
    }
    // Ends the running user code as an interrupt from the watcher does: with a SIGINT
    // that V8 turns into the end of the script, which no JavaScript code can catch (an
    // exception could be: console.log swallows what its stream throws).
    function stopNow() {
        stop.raised = true;
        if (AtomicsCompareExchange(shared, RUNNING, 1, 2) === 1)
            processKill(PID, 'SIGINT');
        AtomicsWait(shared, RUNNING, 2);
    }
    function isStop(thrown) {
        return thrown instanceof Interrupted ||
            (thrown instanceof Error && thrown.code === 'ERR_SCRIPT_EXECUTION_INTERRUPTED');
    }

    // V8 ends the script wherever it is when the SIGINT comes, skipping `finally` blocks, so
    // a SIGINT must never reach the driver's own code: the watcher sends it only while
    // RUNNING is 1 and marks it sent (2); code leaving user code that finds it sent waits
    // for it to end the script right there.
    function enterUserCode() { AtomicsStore(shared, RUNNING, 1); }
    function leaveUserCode() {
        if (AtomicsCompareExchange(shared, RUNNING, 1, 0) === 2)
            AtomicsWait(shared, RUNNING, 2);  // ended by V8: the SIGINT is on its way
    }
    // Runs user code where a SIGINT ends it: inside a vm script, whose breakOnSigint is set
    // before RUNNING becomes 1. Made by main(): it defines a global of its own.
    let runGuarded = null;
    function makeGuardedRunner() {
        // The script calls a global function that runs the work of the moment: set once (a
        // global property added and deleted per run slows every global lookup).
        let guarded = null;
        Object.defineProperty(globalObject, 'bond.guarded', {
            value() {
                const work = guarded;
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
            },
        });
        const script = new Script(`this['bond.guarded']()`);  // (this: the global object)
        // Node 16 to 22: what script.runInThisContext({breakOnSigint: true, displayErrors:
        // false}) calls, without its parsing of the options (a third of the time): (context,
        // timeout, displayErrors, breakOnSigint, breakOnFirstLine).
        const runInContext = Object.getPrototypeOf(vm.Script.prototype).runInContext;
        const major = Number(process.versions.node.split('.')[0]);
        const run = major >= 16 && major <= 22 && typeof runInContext === 'function' ?
            () => ReflectApply(runInContext, script, [null, -1, false, true, false]) :
            () => ScriptRunInThisContext(script, {breakOnSigint: true, displayErrors: false});
        return (work) => {
            guarded = work;
            AtomicsAdd(shared, GUARDED, 1);
            try {
                return run();
            } finally {
                AtomicsSub(shared, GUARDED, 1);
                guarded = null;
                AtomicsStore(shared, RUNNING, 0);
                // Only a SIGINT from elsewhere can have cut a message in half.
                if (writingMessage) fail('a SIGINT from outside ended the driver mid-message');
            }
        };
    }
    // Driver code called from user code (an exported function, output): no SIGINT there.
    function outsideUserCode(work) {
        const fromUserCode = AtomicsLoad(shared, RUNNING) !== 0;
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
    function holdSigintWatchdog() {
        try {
            binding('contextify').startSigintWatchdog();
        } catch (error) {
            // A node without process.binding('contextify'): slower, a late SIGINT ignored.
            process.on('SIGINT', () => {});
        }
    }

    let memoryBaseline = 0;  // (set by main)
    let collectGarbage = null;
    function watchLimits(id, limits) {
        if (id === null) return PortPostMessage(control.port1, null);
        const memory = Number(limits.memory) || 0;
        if (memory > 0 && processRss() - memoryBaseline > memory) {
            // What a stopped operation left behind is garbage now: collect it before the
            // next operation is measured against the same ceiling.
            if (collectGarbage === null) {
                binding('v8').setFlagsFromString('--expose-gc');  // not watched (below)
                collectGarbage = runInNewContext('gc');
            }
            collectGarbage();
        }
        PortPostMessage(
            control.port1, {id, cpu: Number(limits.cpu) || 0, memory, baseline: memoryBaseline});
    }

    // Takes the stops (interrupt, limit) that the inbox and the queue hold.
    function takeStops() {
        AtomicsStore(shared, STOPS, 0);
        for (let received; (received = receiveMessageOnPort(inbox.port1)) !== undefined;)
            enqueue(received.message);
        if (queuedInterrupts === 0) return;
        const all = ArraySplice(queued, 0);
        queuedInterrupts = 0;
        for (let i = 0; i < all.length; ++i)
            if (!takeStop(all[i])) enqueue(all[i]);
    }
    // True when `received` was a stop, now noted.
    function takeStop(received) {
        if (received.stop !== undefined) {
            noteStop(received.stop.id, received.stop.limit);
            return true;
        }
        if (received.line === undefined || !StringIncludes(received.line, '"interrupt"'))
            return false;
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

    // --- Requests from the host ------------------------------------------------------------------
    // Errors.
    class InvalidParams extends Error {}
    class BondError extends Error {}  // an error of the host's exported function
    Object.defineProperty(BondError.prototype, 'name', {value: 'BondError'});

    let transExcept = false;

    function describeThrown(thrown) {
        if (isProxy(thrown)) return describe(WeakMapGet(proxies, thrown));  // (not the host's get)
        if (thrown instanceof Error ||
            (thrown && typeof thrown.message === 'string' && typeof thrown.name === 'string')) {
            return thrown.message ? `${thrown.name}: ${thrown.message}` : String(thrown.name);
        }
        if (typeof thrown === 'string') return thrown;
        return inspect(thrown, {depth: 4, breakLength: Infinity});
    }
    // Where `thrown` was thrown, innermost frame first: the frames of V8's stack of user code
    // (a file the driver compiled, or a module's path), the driver's and Node's own left out. A
    // syntax error's place is the first line of its stack ("file:line").
    const FRAME = /^\s+at (?:(.+?) \()?(.+?):(\d+):\d+\)?$/;
    function stackOf(thrown) {
        const text = stackTextOf(thrown);
        const stack = text !== '' ? linesOf(text) : [];
        const frames = [];
        const isUser = (file) => SetHas(userFiles, file) || StringStartsWith(file, '/') ||
            StringStartsWith(file, 'file:');
        const place = thrown instanceof SyntaxError && RegExpExec(/^(.+):(\d+)$/, stack[0] || '');
        if (place && isUser(place[1]))
            ArrayPush(frames, {file: place[1], line: Number(place[2]), function: ''});
        for (let i = 0; i < stack.length; ++i) {
            const frame = RegExpExec(FRAME, stack[i]);
            if (frame && isUser(frame[2]))
                ArrayPush(frames, {file: frame[2], line: Number(frame[3]),
                                   function: frame[1] || '<anonymous>'});
        }
        return frames;
    }
    // An Error's stack, or '': Node's formatting of stacks calls built-ins that user code may
    // have replaced (Array.prototype.join, WeakMap.prototype.get), and then throws.
    function stackTextOf(thrown) {
        if (!(thrown instanceof Error)) return '';
        try {
            const stack = thrown.stack;
            return typeof stack === 'string' ? stack : '';
        } catch (error) {
            return '';
        }
    }
    // The lines of a text (split('\n') would call the replaceable String.prototype[Symbol.split]).
    function linesOf(text) {
        const lines = [];
        let start = 0;
        for (let end; (end = StringIndexOf(text, '\n', start)) !== -1; start = end + 1)
            ArrayPush(lines, StringSlice(text, start, end));
        ArrayPush(lines, StringSlice(text, start));
        return lines;
    }
    function firstLine(text) {
        const end = StringIndexOf(text, '\n');
        return end === -1 ? text : StringSlice(text, 0, end);
    }
    function serializedException(thrown) {
        if (thrown !== null && typeof thrown === 'object' &&
            typeof thrown.toJSON !== 'function' && thrown instanceof Error) {
            return {
                type: thrown.name, message: thrown.message, stack: stackTextOf(thrown), ...thrown
            };
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
        const data = {type: thrown instanceof Error ? thrown.name : typeName(thrown),
                      stack: stackOf(thrown)};
        const message = describeThrown(thrown);
        if (transExcept) {
            data.exception = serializedException(thrown);
            try {
                return {line: encode(errorReply(id, -32000, message, data))};
            } catch (error) {
                data.exception = inspect(thrown);
            }
        }
        return errorReply(id, -32000, message, data);
    }
    function sendMessage(message) {
        if (message.line !== undefined) return sendLine(message.line);  // encoded already
        let line;
        try {
            line = encode(message);
        } catch (error) {
            const reply = thrownReply(message.id, error);
            line = reply.line ?? encode(reply);
        }
        sendLine(line);
    }

    // Evaluation.
    // Scripts run in the global scope (vm.runInThisContext): var and function declarations
    // become globals, let/const/class join the global lexical scope, so they persist.
    // eval's code is an expression (so `{a: 1}` is an object) or, failing that, statements
    // whose completion value is the value. Most evals repeat a few codes: compiled once.
    // Code sent without a file name is named as node -e names it; userFiles are the names of
    // user code the driver compiled (see stackOf).
    const NO_FILE = '[eval]';
    const userFiles = new Set([NO_FILE]);
    const compiledCache = new Map();
    function evaluate(code) {
        let script = MapGet(compiledCache, code);
        if (script === undefined) {
            try {
                script = new Script(`(${code}\n)`, {filename: NO_FILE});
            } catch (error) {
                script = new Script(code, {filename: NO_FILE});
            }
            if (MapSize(compiledCache) > 1024) MapClear(compiledCache);
            MapSet(compiledCache, code, script);
        }
        return ScriptRunInThisContext(script, {displayErrors: false});
    }

    // V8's REPL mode, through the inspector: top-level await, and let/const that may be
    // declared again (as in Node's and browsers' consoles). Only at the top level: its value
    // is a Promise, which cannot settle while a nested call holds the event loop.
    let inspectorSession = null;
    function inspector() {
        if (inspectorSession === null) {
            try {
                const {Session} = requireBuiltin('inspector');
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
    // (The code's global scope is reached through `this` of a sloppy function: the code may
    // assign others to globalThis and Symbol.)
    const SLOT = 'bond.inspector.value';
    function valueOf(remote) {
        if (remote.objectId !== undefined) {
            inspectorCall('Runtime.callFunctionOn', {
                objectId: remote.objectId,
                functionDeclaration:
                    `function () { (function () { return this; })()['${SLOT}'] = this; }`,
            });
            const value = globalObject[SLOT];
            delete globalObject[SLOT];
            return value;
        }
        if (remote.unserializableValue !== undefined)
            return runInThisContext(remote.unserializableValue);
        return remote.value;
    }
    // Code with top-level await: in REPL mode; where the inspector is missing (or refuses),
    // as the body of an async function (`expression`: the code is its value).
    function awaiting(code, expression) {
        return inspector() ? replEvaluate(code, expression) : asyncFunctionOf(code, expression);
    }
    function asyncFunctionOf(code, expression) {
        const body = expression ? `return (${code}\n);` : code;
        return runInThisContext(
            `(async () => {\n${body}\n})()`, {filename: NO_FILE, displayErrors: false});
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
        PromiseThen(evaluation, undefined, () => {});
        return evaluation;
    }
    function usesAwait(error, code) {
        return error instanceof SyntaxError && RegExpTest(/\bawait\b/, code);
    }

    function argsParam(params, tagged) {
        const args = isArray(params.args) ? params.args : [];
        return tagged ? decodeTags(args) : args;
    }
    function codeParam(params, key) {
        const code = params[key];
        if (typeof code !== 'string') throw new InvalidParams(`"${key}" must be a string`);
        return code;
    }

    const callers = new Map();  // call's name expressions, compiled once
    function callerOf(name) {
        let caller = MapGet(callers, name);
        if (caller === undefined) {
            if (MapSize(callers) > 1024) MapClear(callers);
            // (name)(...) keeps `this`: obj.method is called as a method of obj.
            caller = runInThisContext(
                `(function (args) { return (${name}\n)(...args); })`,
                {filename: NO_FILE, displayErrors: false});
            MapSet(callers, name, caller);
        }
        return caller;
    }
    // The arguments as `...args` spreads them: an array, unless user code replaced how arrays
    // iterate, else an iterable of the driver's own.
    const ArrayPrototype = Array.prototype, ArrayValues = ArrayPrototype[Symbol.iterator];
    const ArrayIterator = getPrototypeOf(ReflectApply(ArrayValues, [], []));
    const ArrayIteratorNext = ArrayIterator.next;
    const SymbolIterator = Symbol.iterator;
    function spreadable(args) {
        if (ArrayPrototype[SymbolIterator] === ArrayValues &&
            ArrayIterator.next === ArrayIteratorNext)
            return args;
        let i = 0;
        const iterator = {
            next: () => i < args.length ? {value: args[i++], done: false} :
                                          {value: undefined, done: true},
        };
        return {[SymbolIterator]: () => iterator};
    }

    const IDENTIFIER = /^[\p{ID_Start}$_][\p{ID_Continue}$\u200c\u200d]*$/u;
    const RESERVED =
        new Set(('await break case catch class const continue debugger default ' +
                 'delete do else enum export extends false finally for function if ' +
                 'import in instanceof let new null return static super switch this ' +
                 'throw true try typeof var void while with yield arguments eval')
                    .split(' '));  // (at start-up)

    const exported = new Set();  // the names exported so far: exported again, they are replaced

    const methods = {
        eval(params, nested) {
            const code = codeParam(params, 'code');
            try {
                return evaluate(code);
            } catch (error) {
                if (!nested && usesAwait(error, code))
                    return new Awaited(awaiting(code, true));
                throw error;
            }
        },
        // A plain script where it can be one; V8's REPL mode (through the inspector) for
        // top-level await, which a script cannot parse.
        eval_block(params, nested) {
            const code = codeParam(params, 'code');
            const filename = typeof params.file === 'string' && params.file ? params.file : NO_FILE;
            SetAdd(userFiles, filename);
            let script;
            try {
                script = new Script(code, {filename});
            } catch (error) {
                if (!nested && usesAwait(error, code))
                    return PromiseThen(awaiting(code, false), () => null);
                throw error;
            }
            ScriptRunInThisContext(script, {displayErrors: false});
            return null;
        },
        call(params, nested, tagged) {
            const caller = callerOf(codeParam(params, 'name'));
            return caller(spreadable(argsParam(params, tagged)));
        },
        // The table's objects (see Objects): o[m](...args) with `this` o, or o(...args).
        invoke(params, nested, tagged) {
            const object = heldParam(params);
            const method = nameParam(params, 'method', true);
            const args = argsParam(params, tagged);
            if (method === null) {
                if (typeof object !== 'function')
                    throw new TypeError(`the ${typeName(object)} is not a function`);
                return ReflectApply(object, undefined, args);
            }
            const callee = object[method];
            if (typeof callee !== 'function')
                throw new TypeError(`${typeName(object)}.${method} is not a function`);
            return ReflectApply(callee, object, args);
        },
        get(params) {
            const object = heldParam(params);
            const name = nameParam(params, 'name', true);
            return name === null ? asValue(object) : attributeOf(object, name);
        },
        set(params, nested, tagged) {
            const object = heldParam(params);
            const name = nameParam(params, 'name', false);
            object[name] = tagged ? decodeTags(params.value) : params.value;  // strict: throws
            return null;
        },
        count_objects() {
            return MapSize(held);
        },
        release(params) {
            if (isArray(params.objects))
                for (let i = 0; i < params.objects.length; ++i) MapDelete(held, params.objects[i]);
            return null;
        },
        export(params) {
            const name = params.name;
            if (typeof name !== 'string' || !RegExpTest(IDENTIFIER, name) || SetHas(RESERVED, name))
                throw new InvalidParams(
                    `${JSON.stringify(name)} is not a valid JavaScript function name`);
            if (SetHas(LANGUAGE_GLOBALS, name) && !SetHas(exported, name))
                throw new InvalidParams(
                    `${name} is a global of JavaScript: an export may not replace it`);
            SetAdd(exported, name);
            globalObject[name] = {
                [name](...args) { return request('call', {name, args}, `${name}()`); },
            }[name];
            return null;
        },
        configure(params) {
            if ('trans_except' in params) transExcept = Boolean(params.trans_except);
            return null;
        },
    };

    // The top-level request being served, whose reply waits for its Promise and for the
    // end of the current turn of the event loop: an unhandled rejection or an uncaught
    // exception of that turn fails it instead.
    let current = null;

    function isThenable(value) {
        return value !== null && (typeof value === 'object' || typeof value === 'function') &&
            typeof value.then === 'function';
    }
    // A handler's Promise that is the driver's way to its value (code with top-level await,
    // the value of a held Promise): awaited also for `keep`, which then holds the outcome.
    class Awaited {
        constructor(promise) { this.promise = promise; }
    }

    function handleRequest(message, nested) {
        const {id, method} = message;
        const params =
            message.params !== null && typeof message.params === 'object' ? message.params : {};
        if (method === 'release' && id === undefined) return methods.release(params);
        const handler = hasOwn(methods, method) ? methods[method] : undefined;
        if (handler === undefined && id === undefined) return;
        if (handler === undefined)
            return sendMessage(
                errorReply(id ?? null, -32601, `unknown method ${JSON.stringify(method)}`));
        if (id !== undefined) ArrayPush(received, id);
        const limits = !nested && params.limits !== null && typeof params.limits === 'object' ?
            params.limits :
            null;
        if (limits !== null) watchLimits(id, limits);
        const answer = (reply) => {
            const index = ArrayLastIndexOf(received, id);
            if (index !== -1) ArraySplice(received, index, 1);
            if (limits !== null) watchLimits(null, null);
            if (stop !== null && stop.id === id) stop = null;
            if (id !== undefined) sendMessage(reply);
        };
        let result;
        try {
            result = runGuarded(() => handler(params, nested, message[TAGGED] === true));
        } catch (error) {
            if (isStop(error)) takeStops();  // the interrupt that stopped it, still queued
            return answer(thrownReply(id, error));
        }
        if (id === undefined) return answer(null);  // a notification: nothing to answer
        const keep = params.keep === true;
        if (result instanceof Awaited)
            result = result.promise;
        else if (keep)
            result = new Kept(result);  // as it is, a Promise too
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
        if (!isThenable(result)) {
            // Runs the microtasks the code queued and Node's processing of unhandled
            // rejections now, as Node would once this callback returns: one that the code
            // caused fails the request (reportUncaught) before its reply is sent.
            try {
                processTickCallback();
            } catch (error) {
                // a nextTick's
                EmitterEmit(process, 'uncaughtException', error, 'uncaughtException');
            }
            if (request.replied) return;
            let response;
            try {
                response =
                    encode({jsonrpc: '2.0', id, result: result === undefined ? null : result});
            } catch (error) {
                return request.fail(error);
            }
            return reply({line: response});
        }
        PromiseThen(PromiseResolve(result), (value) => {
            // Serialized now, sent when this turn of the event loop is over.
            const heldBefore = lastHeld;
            let response;
            try {
                const outcome = keep ? new Kept(value) : value;
                response = encode(
                    {jsonrpc: '2.0', id, result: outcome === undefined ? null : outcome});
            } catch (error) {
                return request.fail(error);
            }
            const heldAfter = lastHeld;
            setImmediate(() => {
                // Failed meanwhile: the handles of the value never reach the host.
                if (request.replied) return dropHeld(heldBefore, heldAfter);
                reply({line: response});
            });
        }, request.fail);
    }

    function reportUncaught(thrown, kind) {
        if (current !== null) return current.fail(thrown);
        const text =
            stackTextOf(thrown) || describeThrown(thrown);
        sendOutput('stderr', bytesOfText(`${kind}: ${text}\n`));
    }

    // --- Calls to the host -----------------------------------------------------------------------
    let nextRequestId = 0;
    let hostCalls = 0;  // requests to the host waiting for their reply
    // Sends a request to the host and serves the host's requests until its reply comes: a
    // call of an exported function, or an operation of a proxy (`what` names it in errors).
    function request(method, params, what) {
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
                return serve(id, what);
            });
        } finally {
            --hostCalls;
        }
        if ('error' in reply) {
            // -32002: the host is stopping the code that called it.
            if (reply.error && reply.error.code === -32002 && stop !== null) {
                if (AtomicsLoad(shared, RUNNING) !== 0) stopNow();
                throw stopError();  // called from outside the host's requests (a timer)
            }
            throw new BondError(
                String((reply.error && reply.error.message) ?? 'error in the host'));
        }
        raisePendingStop();  // the host's function returned, but the code was stopped meanwhile
        // Read with the reply (called from a timer, say): handled from the event loop.
        if (queued.length > 0 && !serving) setImmediate(serveQueued);
        if (reply[TAGGED] !== true) return reply.result;
        try {
            return decodeTags(reply.result);
        } catch (error) {
            if (error instanceof InvalidParams) throw new BondError(error.message);
            throw error;
        }
    }

    // --- The serving loop ------------------------------------------------------------------------
    // The main thread reads the protocol's input itself: with blocking reads while nothing
    // else needs the event loop (serveQueued, loopHasWork) or while JavaScript waits for the
    // host (a call of an exported function), else in its event loop (so Promises and timers
    // run). A message then costs a read, no hand-off between threads, no epoll_wait.
    // While user code runs nothing reads there, so a worker thread, the watcher, takes the
    // input over once the main thread has worked WATCH_MS without reading it (a long
    // computation, a loop that prints): it passes each message on through the inbox, stops
    // the running code for an interrupt (SIGINT, see above), and gives the input back at the
    // end of a line once the main thread waits for input again. The watcher also enforces
    // the CPU and memory limits, and writes the `limit` notification itself: the main thread
    // may be the one that cannot stop.
    //
    // shared[INPUT] decides who reads: BUSY is set by the main thread while it does not read
    // (it clears it before reading), WATCHED by the watcher, only in place of BUSY alone.
    // READS counts the messages the main thread took, so that the watcher tells a long piece
    // of work from a stream of short ones; the watcher sleeps while the main thread is idle,
    // and the main thread wakes it (ARMED) when it takes a message.

    // Messages read and not handled yet, in order: {line}, {end}, and from the watcher
    // {stop} and {giveBack}.
    const queued = [];
    let queuedInterrupts = 0;  // interrupts among them, for raisePendingStop
    let partial = [];          // the start of a line whose end is not read yet

    let ownInput = false;      // the main thread reads the input, not the watcher (set by main)

    const mayStop = (received) =>
        received.stop !== undefined ||
        (received.line !== undefined && StringIncludes(received.line, '"interrupt"'));
    function enqueue(received) {
        if (mayStop(received)) ++queuedInterrupts;
        ArrayPush(queued, received);
    }
    function shiftQueued() {
        const received = ArrayShift(queued);
        if (mayStop(received)) --queuedInterrupts;
        return received;
    }
    // The next queued message, taken (the main thread is busy with it from now on); the
    // watcher's hand-backs of the input on the way are carried out. Undefined: none.
    function takeQueued() {
        while (queued.length > 0) {
            const received = shiftQueued();
            if (received.giveBack !== undefined) {
                takeInputBack(received.giveBack);
                continue;
            }
            markBusy();
            return received;
        }
        return undefined;
    }
    function takeLines(chunk) {
        let start = 0;
        for (let end; (end = BufferIndexOf(chunk, 10, start)) !== -1; start = end + 1) {
            let line;
            if (partial.length === 0) {
                line = textOf(chunk, start, end);
            } else {
                ArrayPush(partial, TypedArraySubarray(chunk, start, end));
                line = textOf(BufferConcat(partial));
                partial = [];
            }
            enqueue({line});
        }
        if (start < chunk.length) ArrayPush(partial, copyOf(TypedArraySubarray(chunk, start)));
    }
    // A blocking read; false at the end of the input. (takeLines copies what it keeps.)
    const readBuffer = BufferAllocUnsafe(READ_CHUNK);
    let largeReadBuffer = null;
    function readInputSync() {
        // The rest of a long line comes in large pieces.
        const buffer = partial.length === 0 ?
            readBuffer :
            (largeReadBuffer ??= BufferAllocUnsafe(OUTPUT_CHUNK));
        let length;
        for (;;) {
            try {
                length = readSync(inputFds[0], buffer, 0, buffer.length, null);
                break;
            } catch (error) {
                if (error.code === 'EINTR') continue;  // a SIGINT from outside
                ArrayPush(queued, {end: error.message});
                return false;
            }
        }
        if (length === 0) {
            ArrayPush(queued, {end: 'the host closed the bond'});
            return false;
        }
        takeLines(TypedArraySubarray(buffer, 0, length));
        return true;
    }
    // The main thread takes a message: it does not read the input until releaseInput().
    function markBusy() {
        AtomicsOr(shared, INPUT, BUSY);
        AtomicsAdd(shared, READS, 1);
        if (AtomicsLoad(shared, ARMED) === 0 &&
            AtomicsCompareExchange(shared, ARMED, 0, 1) === 0)
            AtomicsNotify(shared, ARMED);
    }
    // The main thread is about to wait for input: from the input, unless the watcher holds it.
    function releaseInput() {
        if ((AtomicsAnd(shared, INPUT, ~BUSY) & WATCHED) !== 0 && ownInput) {
            ownInput = false;
            if (inputStarted) pauseInput();
        }
    }
    // The watcher gave the input back, unless it has taken it again since.
    function takeInputBack(hold) {
        releaseInput();
        if (AtomicsLoad(shared, TAKEOVERS) === hold &&
            (AtomicsLoad(shared, INPUT) & WATCHED) === 0 && !closing) {
            ownInput = true;
            if (inputStarted) resumeInput();
        }
    }

    // The event loop's reader of the input: a net.Socket, made by main() before anything is served
    // (Node's Socket calls Function.prototype.call, which user code may replace), first read when
    // the loop is first needed, then paused and resumed at its handle (what Socket's pause and
    // resume do for a socket with `onread`).
    let input = null, inputHandle = null, inputStarted = false;
    let readStart = null, readStop = null, ReadableRead = null;
    function makeInput() {
        input = new (requireBuiltin('net').Socket)({
            fd: inputFds[1],
            readable: true,
            writable: false,
            manualStart: true,
            onread: {buffer: BufferAllocUnsafe(READ_CHUNK), callback: onInput},
        });
        inputHandle = input._handle;
        ({readStart, readStop} = inputHandle);
        ReadableRead = requireBuiltin('stream').Readable.prototype.read;
        EmitterOn(input, 'end', () => {
            enqueue({end: 'the host closed the bond'});
            serveQueued();
        });
        EmitterOn(input, 'error', (error) => {
            enqueue({end: error.message});
            serveQueued();
        });
    }
    function pauseInput() {
        if (!inputHandle.reading) return;
        inputHandle.reading = false;
        ReflectApply(readStop, inputHandle, []);
    }
    function resumeInput() {
        if (inputHandle.reading) return;
        inputHandle.reading = true;
        ReflectApply(readStart, inputHandle, []);
    }
    function readInLoop() {
        if (!ownInput || closing) return;
        if (inputStarted) return resumeInput();
        inputStarted = true;
        ReflectApply(ReadableRead, input, [0]);  // starts reading, as Socket's read(0) would
    }
    function onInput(length, buffer) {
        takeLines(TypedArraySubarray(buffer, 0, length));
        // The host writes a line whole: the rest of one begun comes at once.
        while (partial.length > 0 && readInputSync())
            ;
        serveQueued();
        return ownInput;
    }

    // Handles the queued messages while idle; then, while nothing else needs the event
    // loop, waits for the next message with a blocking read (no epoll_wait, no callback).
    let serving = false;
    function serveQueued() {
        if (serving) return;
        serving = true;
        try {
            for (;;) {
                for (let received; (received = takeQueued()) !== undefined;)
                    handleIdleMessage(received);
                // (Collected proxies wait for the loop, when V8 has no cleanupSome.)
                if (!ownInput || closing || current !== null || loopHasWork() ||
                    (liveProxies > 0 && cleanupSome === null))
                    break;
                releaseInput();
                if (!ownInput) break;
                readInputSync();
            }
        } finally {
            serving = false;
        }
        releaseInput();
        readInLoop();
    }

    // Whether anything but the bond's input may need the event loop: a handle, request,
    // timer or immediate beyond the driver's own, a tick queued. Checked again only when an
    // async resource was made since it had nothing: Node counts them (async ids), and none
    // of those is made without one.
    let loopHasWork = null;  // made by main(), once the inbox is there
    const TimeoutUnref = uncurryThis(getPrototypeOf(setTimeout(() => {}, 0)).unref);
    function makeLoopHasWork() {
        const asyncWrap = binding('async_wrap');
        const pipeWrap = binding('pipe_wrap');
        const asyncIds = asyncWrap !== null ? asyncWrap.async_id_fields : undefined;
        const counter = asyncWrap !== null ? asyncWrap.constants.kAsyncIdCounter : undefined;
        if (asyncIds === undefined || counter === undefined || pipeWrap === null ||
            typeof process.getActiveResourcesInfo !== 'function')
            return () => true;
        // What was unref()'d is not listed: seen once, the loop is always given its turn.
        // (A timer made unref'd at once, by timers/promises with {ref: false}, is missed:
        // it runs when the loop next runs.)
        let unrefSeen = false;
        const timer = setTimeout(() => {}, 0), immediate = setImmediate(() => {});
        clearTimeout(timer);
        clearImmediate(immediate);
        let handleWrap = pipeWrap.Pipe.prototype;
        while (handleWrap !== null && !hasOwn(handleWrap, 'unref'))
            handleWrap = Object.getPrototypeOf(handleWrap);
        const prototypes = [handleWrap, inbox.port1, timer, immediate].map(
            (object, index) => index === 0 ? object : Object.getPrototypeOf(object));
        for (const prototype of prototypes) {
            const unref = prototype !== null ? prototype.unref : undefined;
            if (typeof unref !== 'function') return () => true;
            prototype.unref = function(...args) {
                unrefSeen = true;
                return ReflectApply(unref, this, args);
            };
        }
        const ownResources = processActiveResources().length;  // the inbox
        let quietAt = -1;  // the count of async resources when the loop had nothing
        return () => {
            if (asyncIds[counter] === quietAt) return false;
            processTickCallback();
            const own = ownResources + (inputStarted ? 1 : 0);
            if (unrefSeen || processActiveResources().length > own) return true;
            quietAt = asyncIds[counter];
            return false;
        };
    }

    let closing = false;
    function hostClosed() {
        if (closing) return;
        closing = true;
        PortClose(inbox.port1);
        if (input !== null) input.destroy();  // (made by main)
        // The host went away while it waited for a reply: nobody wants the rest.
        if (received.length > 0) processExit(0);
        // Else like the end of a script: what is scheduled still runs, then node exits; for
        // as long as the host's close() waits at most, since a host that went away (killed)
        // can no longer end this process.
        TimeoutUnref(setTimeout(() => processExit(0), CLOSE_GRACE_MS));
    }

    // The next message, waiting for it.
    function nextMessageSync() {
        for (;;) {
            const next = takeQueued();
            if (next !== undefined) return next;
            releaseInput();
            if (ownInput) {
                readInputSync();
                // A limit the watcher reached meanwhile: the host's answer may refer to it.
                if (AtomicsLoad(shared, STOPS) !== 0) takeStops();
                continue;
            }
            const seen = AtomicsLoad(shared, LINES);
            const received = receiveMessageOnPort(inbox.port1);
            if (received !== undefined)
                enqueue(received.message);
            else
                AtomicsWait(shared, LINES, seen);
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
        if (message === null || typeof message !== 'object' || isArray(message)) {
            sendMessage(errorReply(null, -32600, 'a message must be a JSON object'));
            return null;
        }
        return message;
    }

    // Serves the host's requests until the reply to request `id` comes, and answers that (what
    // Python's, PHP's and Perl's serve do with an id; while idle, serveQueued serves from the
    // event loop). A reply to any other id is fatal: the host never sent one. `what` names the
    // call in errors.
    function serve(id, what) {
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
                fail(`a reply to a request never sent: ${StringSlice(received.line, 0, 200)}`);
            }
        }
    }

    function handleIdleMessage(received) {
        if (received.end !== undefined) return hostClosed();
        if (takeStop(received)) return;
        const message = parse(received.line);
        if (message === null) return;
        if ('method' in message)
            handleRequest(message, false);
        else
            fail(`a reply to a request never sent: ${StringSlice(received.line, 0, 200)}`);
    }

    // --- Start and end ---------------------------------------------------------------------------
    function fail(reason) {
        try {
            writeAll(originalStderr, `bond driver: ${reason}\n`);
        } finally {
            processExit(70);
        }
    }

    // The REPL made a domain, and domains carry themselves from callback to callback with
    // an async hook, which also hooks every Promise: `await` ran 12 times slower. The hooks
    // are switched off (Node then calls none); user code that requires the domain module
    // gets them back.
    function switchOffReplHooks() {
        const asyncWrap = binding('async_wrap');
        if (asyncWrap === null) return;
        const fields = asyncWrap.async_hook_fields, names = asyncWrap.constants;
        const counts = ['kInit', 'kBefore', 'kAfter', 'kDestroy', 'kPromiseResolve', 'kTotals']
                           .map((name) => names[name]);
        if (counts.some((index) => index === undefined) || fields[names.kTotals] === 0 ||
            typeof asyncWrap.setPromiseHooks !== 'function')
            return;
        const saved = counts.map((index) => fields[index]);
        for (const index of counts) fields[index] = 0;
        asyncWrap.setPromiseHooks(undefined, undefined, undefined, undefined);
        const load = Module._load;
        let off = true;
        Module._load = function(request) {
            if (off && (request === 'domain' || request === 'node:domain')) {
                off = false;
                for (let i = 0; i < counts.length; ++i) fields[counts[i]] += saved[i];
                // Node sets the Promise hooks of all async hooks again when one is added.
                requireBuiltin('v8').promiseHooks.onInit(() => {})();
            }
            return ReflectApply(load, this, arguments);
        };
    }

    // The driver's start-up with `descriptors`, in this order; then it serves from the event loop
    // (serveQueued) until the host closes the bond.
    function main(descriptors) {
        // What the REPL of the bootstrap (node -i) shows of itself: gone. -i in execArgv
        // (child_process.fork starts a node with process.execArgv), its globals _ and _error.
        // (Its globals for the built-in modules, fs and the others, are those of node -e too.)
        for (const option of ['-i', '--interactive']) {
            const index = process.execArgv.indexOf(option);
            if (index !== -1) process.execArgv.splice(index, 1);
        }
        for (const name of ['_', '_error']) {
            const property = Object.getOwnPropertyDescriptor(globalThis, name);
            if (property !== undefined && property.get !== undefined && property.configurable)
                delete globalThis[name];
        }
        switchOffReplHooks();
        ({protocolOut, originalStderr, outputFiles} = descriptors);
        descriptorsWritten = outputFiles.length > 0 && binding('fs') === null;
        // process.stdout / process.stderr (and so console.*) become output messages, in order.
        for (const [stream, channel] of [[process.stdout, 'stdout'], [process.stderr, 'stderr']]) {
            stream._write = (chunk, encoding, done) => {
                raisePendingStop();  // code that prints in a loop stops here
                try {
                    outsideUserCode(
                        () => sendOutput(
                            channel,
                            BufferIsBuffer(chunk) ? chunk :
                                encoding === 'utf8' ? bytesOfText(chunk) :
                                                      BufferFrom(chunk, encoding)));
                } catch (error) {
                    return done(error);
                }
                done();
                raisePendingStop();
            };
            stream._writev = null;
        }
        runGuarded = makeGuardedRunner();
        process.on('uncaughtException', (error) => reportUncaught(error, 'Uncaught'));
        process.on('unhandledRejection', (reason) => reportUncaught(reason, 'Unhandled rejection'));

        // Ready: the host may send its first request while the rest is set up (the watcher's
        // Worker takes a few milliseconds to make).
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
        holdSigintWatchdog();
        // Descriptions of the input (see takeDescriptors): one blocking, for the blocking reads;
        // one for the event loop (libuv makes it non-blocking); one for the watcher. Without
        // them (spawnDriver), descriptor 3 is the watcher's alone, and it never gives it back.
        inputFds = descriptors.input;
        canRead = inputFds !== null;
        ownInput = canRead;
        if (canRead) makeInput();
        if (!canRead) {
            AtomicsStore(shared, INPUT, WATCHED);
            AtomicsStore(shared, ARMED, 1);
        }

        inbox = new MessageChannel();  // the watcher's messages to the main thread
        control = new MessageChannel();  // the limits of the running request, to the watcher
        watcher = new Worker(watcherSource, {
            eval: true,
            workerData: {
                port: inbox.port2,
                control: control.port2,
                shared: shared.buffer,
                slots: {LINES, WRITING, RUNNING, STOPS, INPUT, READS, ARMED, TAKEOVERS, GUARDED},
                bits: {BUSY, WATCHED},
                watchMs: WATCH_MS,
                readChunk: READ_CHUNK,
                fd: canRead ? inputFds[2] : descriptors.protocolIn,
                out: protocolOut,
                keep: !canRead,
            },
            transferList: [inbox.port2, control.port2],
            stdout: false,
            stderr: false
        });
        watcher.on('error', (error) => fail(`the protocol watcher failed: ${error.stack}`));
        watcher.unref();
        memoryBaseline = processRss();
        inbox.port1.on('message', (received) => {
            enqueue(received);
            serveQueued();
        });

        loopHasWork = makeLoopHasWork();
        watchDescriptorWriters();
        process.on('exit', () => {
            try {
                drainOutputFiles(true);
            } catch (error) {
                // The host has gone.
            }
        });

        // Code the host runs sees Node's usual globals of a script, resolved from the cwd.
        globalThis.require =
            require('module').createRequire(require('path').join(process.cwd(), '[bond]'));

        serveQueued();
    }

    // The host's bootstrap calls this with role 'launcher' in its REPL's eval, with its source and
    // the watcher's (watcher.js, see The serving loop).
    if (role === 'driver') return mainOfSpawnedDriver();
    // Code run there runs in the REPL's domain, whose error handler would print what the code's
    // callbacks throw to the REPL's output: leave it. Then wait until the REPL has printed this
    // line's value and its prompt (the host ignores that noise before `ready`).
    if (process.domain) process.domain.exit();
    setImmediate(() => {
        let descriptors;
        try {
            descriptors = takeDescriptors();
        } catch (error) {
            // Nothing to serve with: end with the reason, not leave the REPL waiting.
            writeAll(2, `bond driver: cannot start the driver: ${error.message}\n`);
            processExit(70);
        }
        if (descriptors === null) return spawnDriver(source);
        try {
            main(descriptors);
        } catch (error) {
            writeAll(descriptors.originalStderr, `bond driver: ${error.stack}\n`);
            processExit(70);
        }
    });

})

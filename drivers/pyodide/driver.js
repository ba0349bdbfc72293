// The bond driver for Pyodide (CPython compiled to WebAssembly), its JavaScript half: hosts
// Pyodide in a locked-down node and hands the protocol to the Python half (driver.py, embedded
// next to it as pyodide_driver). The host runs `node -e LOADER` (drivers/registry.json), which
// reads the bootstrap from stdin (src/bond/driver_registry.cpp: a header line, then this file and
// driver.py) and calls this function expression in three roles:
// - 'launcher', in the node the host started: finds the pyodide package and starts a second node
//   with Node's permission model on (it may read the pyodide package and nothing else, start no
//   process, generate no code from strings) on the same stdin, stdout and stderr, and ends as it
//   ends;
// - 'host', that node's main thread: reads the protocol's input and queues each line for the
//   worker; it also acts on `interrupt` itself while Python code runs (Pyodide's interrupt
//   buffer) and keeps the CPU limit's clock;
// - 'worker', a worker thread: loads Pyodide with no JavaScript globals, no `js` and `pyodide_js`
//   modules and an empty environment, then runs driver.py, which reads the queued lines and
//   writes the protocol's output itself.
// Only Node's standard library and the pyodide package are used.
(function bondPyodideDriver(role, header, source, pythonSource) {
    'use strict';

    // --- State -----------------------------------------------------------------------------------
    // What the host's main thread and the worker share, one Int32Array over a SharedArrayBuffer:
    const DOORBELL = 0;  // counts the lines queued for the worker (Atomics.wait on it)
    const TOP = 1;  // the id of the top-level request the worker serves (0: none)
    const USER = 2;  // 1 while Python user code runs, 0 in the driver, 2 while the main thread
                     // sets the interrupt buffer (see signalPython)
    const CPU_HIT = 3;  // the request whose CPU limit (measured as wall time) passed
    const SLOTS = 4;
    const fs = require('fs');
    const EXIT_SOFTWARE = 70;

    function fail(reason) {
        fs.writeSync(2, 'bond driver: ' + reason + '\n');
        process.exit(EXIT_SOFTWARE);
    }

    // How every Pyodide of the driver is loaded, from scratch or from the snapshot made the same
    // way: no JavaScript globals for Python's `js`, an environment of its own, no stdin.
    const SNAPSHOT_FILE = 'bond-snapshot.bin';
    function pyodideOptions(directory) {
        return {
            indexURL: directory + '/',
            jsglobals: Object.create(null),
            env: {HOME: '/home/pyodide', PYTHONHASHSEED: '0'},
            stdin: () => null,
            checkAPIVersion: true,
            convertNullToNone: true
        };
    }

    // Makes the memory snapshot next to the pyodide package (role 'snapshot', run by
    // scripts/setup: `header` names the package's directory): Pyodide loaded and nothing run.
    async function makeSnapshot() {
        const {loadPyodide} = require(header.directory + '/pyodide.js');
        const pyodide = await loadPyodide({...pyodideOptions(header.directory), _makeSnapshot: true});
        const file = header.directory + '/' + SNAPSHOT_FILE;
        fs.writeFileSync(file + '.new', pyodide.makeMemorySnapshot());
        fs.renameSync(file + '.new', file);
    }

    // --- Start and end: the launcher ---------------------------------------------------------------
    // Where the pyodide package is: BOND_PYODIDE_DIR when set, else the places the library was
    // built to look (the install prefix's share/bond/pyodide, then the source tree's), in order.
    function findPyodide() {
        const places = process.env.BOND_PYODIDE_DIR ? [process.env.BOND_PYODIDE_DIR] : header.dirs;
        for (const place of places)
            if (fs.existsSync(place + '/pyodide.asm.wasm') && fs.existsSync(place + '/pyodide.js'))
                return fs.realpathSync(place);
        fail('Pyodide is not installed: no pyodide package (pyodide.js, pyodide.asm.wasm) in ' +
             places.join(', ') + '. Install it with scripts/setup (npm ci in drivers/pyodide; ' +
             '`cmake --install` copies it to share/bond/pyodide), or name its directory in ' +
             'BOND_PYODIDE_DIR.');
    }

    function launch() {
        // --experimental-permission (below) came with Node.js 20: an older node would refuse it,
        // or, worse, run without the fence.
        const major = Number(process.versions.node.split('.')[0]);
        if (!(major >= 20))
            fail('Pyodide needs Node.js 20 or later; this node is ' + process.versions.node +
                 ' (' + process.execPath + '). Install Node.js 20 or later (e.g. from ' +
                 'nodejs.org or NodeSource), or name it in the bond\'s command.');
        const directory = findPyodide();
        const args = [
            '--experimental-permission', '--allow-fs-read=' + directory, '--allow-worker',
            '--disallow-code-generation-from-strings', '--no-warnings',
            '-e', '(' + source + ')("host", JSON.parse(process.argv[1]), process.argv[2], ' +
                  'process.argv[3])',
            JSON.stringify({...header, directory}), source, pythonSource
        ];
        const child = require('child_process').spawn(process.execPath, args, {
            stdio: 'inherit', env: {}
        });
        child.on('error', (error) => fail('cannot start node: ' + error.message));
        child.on('exit', (status, signal) => {
            if (signal) process.kill(process.pid, signal);
            process.exit(status);
        });
    }

    // --- The serving loop: the host's main thread ---------------------------------------------------
    function host() {
        const {Worker, MessageChannel} = require('worker_threads');
        const shared = new Int32Array(new SharedArrayBuffer(4 * SLOTS));
        const interruptBuffer = new Int32Array(new SharedArrayBuffer(4));
        const {port1, port2} = new MessageChannel();
        const worker = new Worker('(' + source + ')("worker")', {
            eval: true, env: {}, stdout: false, stderr: false,
            workerData: {header, shared, interruptBuffer, port: port2, pythonSource},
            transferList: [port2]
        });
        worker.on('error', (error) => fail('the interpreter failed: ' + (error && error.stack)));
        worker.on('exit', (status) => process.exit(status));

        const queue = (line) => {
            port1.postMessage(line);
            Atomics.add(shared, DOORBELL, 1);
            Atomics.notify(shared, DOORBELL);
        };
        // Sets the interrupt buffer only while Python user code runs, never while the worker is
        // in the driver's own code (it takes USER back from 1 to 0 with compareExchange, which
        // waits for this to be done).
        const signalPython = () => {
            if (Atomics.compareExchange(shared, USER, 1, 2) !== 1) return;
            Atomics.store(interruptBuffer, 0, 2);  // SIGINT
            Atomics.store(shared, USER, 1);
        };
        // A signal Pyodide takes from the buffer without raising it is lost now and then (about 4
        // in 100): set it again every 100 ms while the stopped request still runs Python code.
        let stopping = 0;
        let rearm = null;
        const stop = (id) => {
            if (id === 0 || Atomics.load(shared, TOP) !== id) return;
            stopping = id;
            signalPython();
            rearm ??= setInterval(() => {
                if (Atomics.load(shared, TOP) !== stopping) {
                    clearInterval(rearm);
                    rearm = null;
                    return;
                }
                if (Atomics.load(interruptBuffer, 0) === 0) signalPython();
            }, 100);
        };
        let cpuTimer = null;
        worker.on('message', (message) => {  // the worker's CPU limit: {id, cpu} (cpu 0: lifted)
            if (cpuTimer !== null) clearTimeout(cpuTimer);
            cpuTimer = null;
            if (message.cpu > 0) {
                cpuTimer = setTimeout(() => {
                    cpuTimer = null;
                    if (Atomics.load(shared, TOP) !== message.id) return;
                    Atomics.store(shared, CPU_HIT, message.id);
                    stop(message.id);
                }, message.cpu * 1000);
            }
        });

        // The pieces of the line not yet ended: only each new chunk is searched for its end, so a
        // long line costs linear time, not quadratic.
        let pieces = [];
        process.stdin.setEncoding('utf8');
        process.stdin.on('data', (chunk) => {
            let start = 0, end;
            while ((end = chunk.indexOf('\n', start)) >= 0) {
                pieces.push(chunk.slice(start, end));
                const line = pieces.length === 1 ? pieces[0] : pieces.join('');
                pieces = [];
                start = end + 1;
                if (line.includes('"interrupt"')) {
                    try {
                        const message = JSON.parse(line);
                        if (message.method === 'interrupt' && !('id' in message) &&
                            message.params && Number.isInteger(message.params.id))
                            stop(message.params.id);
                    } catch (error) { /* the worker answers what is not JSON */ }
                }
                queue(line);
            }
            if (start < chunk.length) pieces.push(chunk.slice(start));
        });
        // The input's end while a request runs: the host is gone, and the code must not run on
        // unattended. Otherwise the worker ends as Python would (atexit).
        process.stdin.on('end', () => {
            if (Atomics.load(shared, TOP) !== 0) process.exit(1);
            queue(null);
        });
    }

    // --- Channels and output: the worker ------------------------------------------------------------
    function worker() {
        const {workerData, receiveMessageOnPort, parentPort} = require('worker_threads');
        const {header, shared, interruptBuffer, port, pythonSource} = workerData;
        const directory = header.directory;

        const writeAll = (fd, text) => {
            const data = Buffer.from(text, 'utf8');
            for (let at = 0; at < data.length;) at += fs.writeSync(fd, data, at);
        };
        // The next line the main thread queued (null: the input's end, kept once seen), waiting for
        // it, or (poll) without waiting. undefined, which Python sees as None: the input's end, or
        // nothing queued.
        let ended = false;
        const take = () => {
            if (ended) return {line: undefined};
            const message = receiveMessageOnPort(port);
            if (message === undefined) return null;
            if (message.message === null) ended = true;
            return {line: message.message ?? undefined};
        };
        const receive = () => {
            for (;;) {
                const seen = Atomics.load(shared, DOORBELL);
                const taken = take();
                if (taken !== null) return taken.line;
                Atomics.wait(shared, DOORBELL, seen);
            }
        };
        const poll = () => {
            if (ended) return undefined;
            const taken = take();
            if (taken === null || taken.line === undefined) return undefined;
            return taken.line;
        };
        const utf8 = new TextDecoder('utf-8', {fatal: true});
        const output = (channel) => ({
            write(bytes) {
                let data;
                try {
                    data = utf8.decode(bytes);
                } catch (error) {
                    data = {$bytes: Buffer.from(bytes).toString('base64')};
                }
                writeAll(1, JSON.stringify({
                    jsonrpc: '2.0', method: 'output', params: {channel, data}
                }) + '\n');
                return bytes.length;
            }
        });

        // --- Stopping and limits ---------------------------------------------------------------------
        // The memory limit: WebAssembly memory only grows, through Memory.prototype.grow (node's
        // --max-old-space-size does not count it). A growth past the cap is refused: Pyodide's
        // malloc then fails and Python raises MemoryError.
        let memoryCap = 0;
        let memoryHit = false;
        let memorySize = 0;
        const grow = WebAssembly.Memory.prototype.grow;
        WebAssembly.Memory.prototype.grow = function (pages) {
            const size = this.buffer.byteLength + pages * 65536;
            if (memoryCap > 0 && size > memoryCap) {
                memoryHit = true;
                throw new RangeError('bond: the memory limit refuses ' + size + ' bytes');
            }
            const previous = grow.call(this, pages);
            memorySize = this.buffer.byteLength;
            return previous;
        };
        let memoryBaseline = 0;
        const io = {
            receive, poll, send: (line) => writeAll(1, line),
            pid: () => process.pid,
            begin: (id) => Atomics.store(shared, TOP, id),
            end: () => {
                Atomics.store(shared, TOP, 0);
                Atomics.store(shared, CPU_HIT, 0);
            },
            enter_user: () => Atomics.store(shared, USER, 1),
            leave_user: () => {
                while (Atomics.compareExchange(shared, USER, 1, 0) === 2);
                Atomics.store(interruptBuffer, 0, 0);
            },
            set_limits: (id, cpu, memory) => {
                memoryHit = false;
                memoryCap = memory > 0 ? memoryBaseline + memory : 0;
                if (cpu > 0) parentPort.postMessage({id, cpu});
            },
            lift: () => {
                memoryCap = 0;
                parentPort.postMessage({id: 0, cpu: 0});
            },
            limit_hit: () => {
                const top = Atomics.load(shared, TOP);
                if (top !== 0 && Atomics.load(shared, CPU_HIT) === top) return 'cpu';
                return memoryHit ? 'memory' : undefined;
            },
            fail
        };

        // --- Start and end ---------------------------------------------------------------------------
        (async () => {
            // Emscripten's NODEFS asks process.binding('constants') for the file flags, which the
            // permission model refuses: fs.constants are the same.
            const binding = process.binding;
            process.binding = (name) => name === 'constants' ?
                {fs: fs.constants, os: require('os').constants} : binding.call(process, name);
            // os.system and the subprocess module reach child_process.spawnSync, which the
            // permission model refuses with an exception that kills the interpreter: a command
            // that cannot be found (status 127) instead, and nothing started.
            require('child_process').spawnSync = () => ({
                status: 127, signal: null, output: [null, null, null], pid: 0
            });
            const {loadPyodide} = require(directory + '/pyodide.js');
            // From the memory snapshot where scripts/setup made one (a tenth of the time); from
            // scratch when there is none or it does not load (made by another pyodide).
            let pyodide = null;
            const snapshot = directory + '/' + SNAPSHOT_FILE;
            if (fs.existsSync(snapshot)) {
                try {
                    pyodide = await loadPyodide({
                        ...pyodideOptions(directory), _loadSnapshot: fs.readFileSync(snapshot)
                    });
                } catch (error) {
                    pyodide = null;
                }
            }
            pyodide ??= await loadPyodide(pyodideOptions(directory));
            pyodide.setStdout(output('stdout'));
            pyodide.setStderr(output('stderr'));
            pyodide.setInterruptBuffer(interruptBuffer);
            // The doors Pyodide opens by default: JavaScript's globals and Pyodide's own API.
            pyodide.unregisterJsModule('js');
            pyodide.unregisterJsModule('pyodide_js');
            pyodide.registerJsModule('_bond_io', io);
            const main = pyodide.runPython([
                'import sys',
                'for _name in ("js", "pyodide_js"): sys.modules.pop(_name, None)',
                'def _bond_start(source):',
                '    namespace = {"__name__": "__bond_driver__"}',
                '    exec(compile(source, "<bond-driver>", "exec"), namespace)',
                '    sys.modules.pop("_bond_io", None)',
                '    return namespace["main"]',
                '_bond_start'
            ].join('\n'), {globals: pyodide.toPy({})})(pythonSource);
            pyodide.unregisterJsModule('_bond_io');
            const heap = pyodide._module && pyodide._module.HEAP8;
            memoryBaseline = heap ? heap.byteLength : memorySize;
            writeAll(2, '\n__bond_driver_ready__\n');
            const status = main(pyodide.version);
            process.exit(status);
        })().catch((error) => fail('the interpreter failed: ' + (error && error.stack)));
    }

    if (role === 'launcher') launch();
    else if (role === 'snapshot') makeSnapshot().catch((error) => fail(error.stack));
    else if (role === 'host') host();
    else worker();
})

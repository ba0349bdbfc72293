// The JavaScript driver's watcher: a worker thread (worker_threads, eval) that takes the
// protocol's input over while user code runs long on the main thread, passes each message on,
// stops the code for an interrupt (SIGINT) and enforces the CPU and memory limits. How the two
// threads share the input is told in driver.js, "The serving loop"; this file is embedded at
// build time next to the driver (cmake/EmbedDrivers.cmake) and handed to it by the bootstrap.
'use strict';
const {workerData} = require('worker_threads');
const fs = require('fs');
const {port, control, fd, out, keep} = workerData;
const shared = new Int32Array(workerData.shared);
// The slots of `shared` and the bits of its INPUT slot, as driver.js numbers them.
const {LINES, WRITING, RUNNING, STOPS, INPUT, READS, ARMED, TAKEOVERS, GUARDED} = workerData.slots;
const {BUSY, WATCHED} = workerData.bits;
const WATCH_MS = workerData.watchMs;
const READ_CHUNK = workerData.readChunk;

function pass(message) {
    port.postMessage(message);
    Atomics.add(shared, LINES, 1);
    Atomics.notify(shared, LINES);
}
function stopRunningCode() {
    Atomics.store(shared, STOPS, 1);
    if (Atomics.compareExchange(shared, RUNNING, 1, 2) === 1)
        process.kill(process.pid, 'SIGINT');
}

// The input, read only while this thread holds it.
let holding = keep ? 1 : 0;  // the number of the hold (TAKEOVERS), 0 when not held
let pending = [];
const input = new (require('net').Socket)({
    fd,
    readable: true,
    writable: false,
    manualStart: !keep,
    onread: {buffer: Buffer.allocUnsafe(READ_CHUNK), callback: onInput},
});
function onInput(length, buffer) {
    const chunk = buffer.subarray(0, length);
    let start = 0;
    for (let end; (end = chunk.indexOf(10, start)) !== -1; start = end + 1) {
        pending.push(chunk.subarray(start, end));
        const line = Buffer.concat(pending).toString('utf8');
        pending = [];
        pass({line});
        if (line.includes('"interrupt"')) stopRunningCode();
    }
    if (start < chunk.length) pending.push(Buffer.from(chunk.subarray(start)));
    // At the end of a line, with the main thread waiting for input: give it back.
    if (!keep && pending.length === 0 &&
        Atomics.compareExchange(shared, INPUT, WATCHED, 0) === WATCHED) {
        pass({giveBack: holding});
        holding = 0;
        idle();
        return false;  // stops reading
    }
}
input.on('end', () => {
    // The host is gone: code that runs must not go on unattended.
    if (Atomics.load(shared, RUNNING) !== 0) process.kill(process.pid, 'SIGKILL');
    pass({end: 'the host closed the bond'});
});
input.on('error', (error) => pass({end: error.message}));

// Watching the main thread: busy (BUSY) and no message taken (READS) for WATCH_MS
// ms, it cannot see the input: hold it, when user code is under way (GUARDED; the
// driver's own work, decoding and encoding a large value, cannot be stopped anyway).
let readsSeen = 0;
function watch() {
    readsSeen = Atomics.load(shared, READS);
    setTimeout(check, WATCH_MS);
}
function check() {
    if (Atomics.load(shared, INPUT) === BUSY) {
        if (Atomics.load(shared, READS) !== readsSeen) return watch();
        if (Atomics.load(shared, GUARDED) === 0)
            return setTimeout(check, WATCH_MS);
        if (Atomics.compareExchange(shared, INPUT, BUSY, BUSY | WATCHED) ===
            BUSY) {
            holding = Atomics.add(shared, TAKEOVERS, 1) + 1;
            input.resume();
            return;
        }
    }
    idle();
}
// Sleeps until the main thread takes a message (it sets ARMED and notifies).
function idle() {
    Atomics.store(shared, ARMED, 0);
    if ((Atomics.load(shared, INPUT) & BUSY) !== 0) {
        Atomics.store(shared, ARMED, 1);
        return watch();
    }
    const waiting = Atomics.waitAsync(shared, ARMED, 0);
    if (waiting.async)
        waiting.value.then(watch);
    else
        watch();
}
if (!keep) idle();

// CPU time and memory of the running operation, from the limits in its request.
const cpuSeconds = () => {
    const used = process.cpuUsage();
    return (used.user + used.system) / 1e6;
};
function limitReached(limit) {
    const line = JSON.stringify(
        {jsonrpc: '2.0', method: 'limit', params: {id: limits.id, limit}}) + '\n';
    while (Atomics.compareExchange(shared, WRITING, 0, 1) !== 0)
        Atomics.wait(shared, WRITING, 1);
    try {
        // Noted before the host can know: its answer to a call of the main thread
        // (-32002) must find the stop.
        pass({stop: {id: limits.id, limit}});
        Atomics.store(shared, STOPS, 1);
        fs.writeSync(out, line);
    } catch (error) {
        // The host has gone; the end of the input follows.
    } finally {
        Atomics.store(shared, WRITING, 0);
        Atomics.notify(shared, WRITING);
    }
    stopRunningCode();
    unwatchLimits();
}
function checkCpu() {
    const used = cpuSeconds() - limits.cpuStart;
    if (used >= limits.cpu) return limitReached('cpu');
    // CPU time runs no faster than the clock per thread: check again when the rest
    // of the budget could be used up at the earliest.
    limits.cpuTimer = setTimeout(checkCpu, Math.max(1, (limits.cpu - used) * 1000));
}
let limits = null;
function unwatchLimits() {
    if (limits === null) return;
    clearTimeout(limits.cpuTimer);
    clearInterval(limits.memoryTimer);
    limits = null;
}
control.on('message', (message) => {
    unwatchLimits();
    if (message === null) return;
    limits = message;
    if (limits.cpu > 0) {
        limits.cpuStart = cpuSeconds();
        checkCpu();
    }
    // Memory is sampled: an allocation may overshoot by what it gets in 10 ms.
    if (limits.memory > 0)
        limits.memoryTimer = setInterval(() => {
            if (process.memoryUsage.rss() - limits.baseline > limits.memory)
                limitReached('memory');
        }, 10);
});

// The floor of a JavaScript bond: read one JSON-RPC request line, call an identity function,
// write one reply line. Nothing else: what any bond over pipes with V8's JSON must at least
// spend. Synchronous reads and writes, as the driver's worker thread does them.
'use strict';
const fs = require('fs');

function ident(x) { return x; }

const chunk = Buffer.alloc(1 << 16);
let pending = [];  // chunks of the line being read
for (;;) {
    const size = fs.readSync(0, chunk, 0, chunk.length, null);
    if (size === 0) break;
    const data = chunk.subarray(0, size);
    let start = 0;
    for (let newline = data.indexOf(10); newline !== -1; newline = data.indexOf(10, start)) {
        pending.push(Buffer.from(data.subarray(start, newline)));
        const request = JSON.parse(Buffer.concat(pending).toString());
        pending = [];
        start = newline + 1;
        const reply = JSON.stringify({jsonrpc: '2.0', id: request.id,
                                      result: ident(...request.params.args)}) + '\n';
        const bytes = Buffer.from(reply);
        for (let offset = 0; offset < bytes.length;) offset += fs.writeSync(1, bytes, offset);
    }
    if (start < size) pending.push(Buffer.from(data.subarray(start)));
}

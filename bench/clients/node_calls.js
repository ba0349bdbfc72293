#!/usr/bin/env node
// The Node figures: calls ident(i) on a bond of bondd through clients/node (Bond.call) and
// through a raw request loop of Node's own (one request written, its answer read, as
// bondd_calls.py does in Python), in turns, and prints the calls per second of each as JSON.
// Usage: node_calls.js SOCKET LANG DEFINE_IDENT SECONDS REPETITIONS
'use strict';
const net = require('node:net');
const { Client } = require('../../clients/node');

const [socketPath, lang, defineIdent] = process.argv.slice(2, 5);
const seconds = Number(process.argv[5]);
const repetitions = Number(process.argv[6]);

// The raw loop: JSON.stringify, write, read to the newline, JSON.parse; no client library.
async function rawLoop() {
  const socket = net.createConnection(socketPath);
  socket.setNoDelay(true);
  let buffered = '';
  let waiting = null;
  socket.setEncoding('utf8');
  socket.on('data', (chunk) => {
    buffered += chunk;
    let end;
    while ((end = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, end);
      buffered = buffered.slice(end + 1);
      const message = JSON.parse(line);
      if (message.id !== undefined && message.method === undefined) waiting(message);
    }
  });
  let id = 0;
  const request = (method, params) => new Promise((resolve) => {
    waiting = resolve;
    socket.write(JSON.stringify({ jsonrpc: '2.0', id: ++id, method, params }) + '\n');
  }).then((message) => { if (message.error) throw new Error(message.error.message); return message.result; });
  const bond = (await request('open', { lang })).bond;
  await request('eval_block', { bond, code: defineIdent });
  return { call: (i) => request('call', { bond, name: 'ident', args: [i] }), close: () => socket.end() };
}

async function viaClient() {
  const client = await Client.connect({ socket: socketPath });
  const bond = await client.open(lang);
  await bond.evalBlock(defineIdent);
  return { call: (i) => bond.call('ident', i), close: () => client.close() };
}

async function batch(caller, count) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    if (await caller.call(i) !== i) throw new Error(`ident(${i}) did not return ${i}`);
  }
  return Number(process.hrtime.bigint() - start) / 1e9;
}

(async () => {
  const raw = await rawLoop();
  const client = await viaClient();
  const warmup = 200;
  const count = Math.max(1, Math.floor(seconds / ((await batch(raw, warmup)) / warmup)));
  await batch(client, warmup);
  const rates = { raw: [], client: [] };
  for (let repetition = 0; repetition < repetitions; repetition++) {
    rates.raw.push(count / await batch(raw, count));
    rates.client.push(count / await batch(client, count));
  }
  raw.close();
  await client.close();
  console.log(JSON.stringify({ raw_calls_per_second: rates.raw, client_calls_per_second: rates.client, calls_per_repetition: count }));
})();

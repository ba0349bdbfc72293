'use strict';
// examples/clients/node_client.js run as a user runs it: with a private bondd, and on a socket.
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const path = require('node:path');
const { test } = require('node:test');

const EXAMPLE = path.join(__dirname, '..', '..', '..', 'examples', 'clients', 'node_client.js');
const EXPECTED = "[ 'a', 'b', 'c' ]\nPHP greets node\nNODE!\n";

test('the example with a private daemon', () => {
  assert.equal(execFileSync(process.execPath, [EXAMPLE], { encoding: 'utf8' }), EXPECTED);
});

test('the example on a daemon\'s socket', () => {
  assert.equal(execFileSync(process.execPath, [EXAMPLE, process.env.BOND_TEST_SOCKET], { encoding: 'utf8' }), EXPECTED);
});

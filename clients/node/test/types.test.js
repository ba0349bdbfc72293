'use strict';
// index.d.ts declares what index.js does: typed_usage.ts, a program using every part of the API,
// type-checks with tsc --strict (Debian's node-typescript, installed by scripts/setup).
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const { test } = require('node:test');

test('the TypeScript declarations type-check a program using the API', () => {
  const checked = spawnSync('tsc', ['--strict', '--noEmit', '--target', 'es2020', '--module', 'commonjs',
    path.join(__dirname, 'node_types_stub.d.ts'), path.join(__dirname, 'typed_usage.ts')],
  { encoding: 'utf8' });
  assert.equal(checked.error, undefined, 'tsc is missing: scripts/setup installs node-typescript');
  assert.equal(checked.status, 0, checked.stdout + checked.stderr);
});

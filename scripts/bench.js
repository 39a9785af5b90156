#!/usr/bin/env node
// `npm run bench [name ...]`: runs every compiled benchmark (dist/bench/*.bench.js),
// or those whose file name contains one of the given names, one after another,
// passing their JSON lines through to stdout (and to test-artifacts/bench.jsonl).
// Benchmarks are never part of `npm test`.
"use strict";
const { spawnSync } = require("child_process");
const fs = require("fs");
const path = require("path");

const root = path.join(__dirname, "..");
const dir = path.join(root, "dist", "bench");
if (!fs.existsSync(dir)) {
  console.error("dist/bench is missing: run `npm run build` first.");
  process.exit(1);
}
const wanted = process.argv.slice(2);
const files = fs
  .readdirSync(dir)
  .filter((f) => f.endsWith(".bench.js"))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.includes(w)))
  .sort();
fs.mkdirSync(path.join(root, "test-artifacts"), { recursive: true });
const out = path.join(root, "test-artifacts", "bench.jsonl");
let failed = 0;
for (const f of files) {
  process.stderr.write(`[bench] ${f}\n`);
  const res = spawnSync(process.execPath, ["--expose-gc", path.join(dir, f)], { cwd: root, encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
  process.stdout.write(res.stdout);
  fs.appendFileSync(out, res.stdout);
  if (res.status !== 0) {
    failed++;
    process.stderr.write(res.stderr);
  }
}
process.exit(failed ? 1 : 0);

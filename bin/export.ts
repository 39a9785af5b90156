#!/usr/bin/env node
/**
 * export: streams one table of a lighting-store SQLite file to CSV or JSON
 * lines in constant memory. Run `node dist/bin/export.js --help`.
 * Exit codes: 0 done, 1 failed, 2 usage error.
 */
import { runExportCli } from '../lib/store/export';

runExportCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr }).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`export: ${String(err)}\n`);
    process.exitCode = 1;
  },
);

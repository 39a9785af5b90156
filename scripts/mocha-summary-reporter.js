// Mocha reporter: the usual spec output, plus one JSON line of counts appended
// to test-artifacts/summary.jsonl so .ci/run can print a single
// "N passed, N failed" line over every suite that `npm test` runs.
'use strict';
const fs = require('fs');
const path = require('path');
const Mocha = require('mocha');

const { EVENT_RUN_END } = Mocha.Runner.constants;

class SummaryReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    const label = process.env.TEST_SUITE_LABEL || 'mocha';
    runner.once(EVENT_RUN_END, () => {
      const s = runner.stats || {};
      const dir = path.join(process.cwd(), 'test-artifacts');
      fs.mkdirSync(dir, { recursive: true });
      fs.appendFileSync(
        path.join(dir, 'summary.jsonl'),
        JSON.stringify({ suite: label, passed: s.passes || 0, failed: s.failures || 0, pending: s.pending || 0 }) + '\n',
      );
    });
  }
}

module.exports = SummaryReporter;

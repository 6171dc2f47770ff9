// Mocha's spec reporter, plus the counts written as JSON to $SYNCORD_MOCHA_RESULT so that
// scripts/test.js can add them up without parsing text.
'use strict';

const fs = require('fs');
const Mocha = require('mocha');

const { EVENT_RUN_END, EVENT_TEST_PASS, EVENT_TEST_FAIL, EVENT_TEST_PENDING } = Mocha.Runner.constants;

class CountingSpecReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    const result = { passed: 0, failed: 0, pending: 0, failures: [] };
    runner.on(EVENT_TEST_PASS, () => result.passed++);
    runner.on(EVENT_TEST_PENDING, () => result.pending++);
    // Also counts failing hooks ("before all" etc.), which fail the tests they guard.
    runner.on(EVENT_TEST_FAIL, (test, err) => {
      result.failed++;
      result.failures.push({ title: test.fullTitle(), error: String((err && (err.stack || err.message)) || err) });
    });
    runner.once(EVENT_RUN_END, () => {
      const out = process.env.SYNCORD_MOCHA_RESULT;
      if (out) fs.writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
    });
  }
}

module.exports = CountingSpecReporter;

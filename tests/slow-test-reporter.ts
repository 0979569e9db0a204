/**
 * Prints the slowest tests of every run and fails the run when any took longer than
 * SLOW_TEST_LIMIT_MS (default 10 s, vitest's testTimeout: a test that sets a longer timeout of
 * its own still fails the run here). Volume belongs in benchmarks, and a suite that is only
 * green on an idle machine is red.
 * `npm run test:reliability` (the large scenarios, volume by design) sets a limit of 15 minutes.
 */
import type { Reporter, TestCase, TestModule } from 'vitest/node';

const LIMIT_MS = Number(process.env.SLOW_TEST_LIMIT_MS ?? 10_000);

export default class SlowTestReporter implements Reporter {
  private readonly durations: { name: string; ms: number }[] = [];

  onTestCaseResult(test: TestCase): void {
    const ms = test.diagnostic()?.duration ?? 0;
    this.durations.push({ name: `${test.module.moduleId.replace(`${process.cwd()}/`, '')} > ${test.fullName}`, ms });
  }

  onTestRunEnd(_modules: readonly TestModule[]): void {
    const slowest = [...this.durations].sort((a, b) => b.ms - a.ms);
    console.log(`\nSlowest tests (limit ${LIMIT_MS} ms):`);
    for (const { name, ms } of slowest.slice(0, 5)) console.log(`  ${String(Math.round(ms)).padStart(6)} ms  ${name}`);
    const over = slowest.filter((t) => t.ms > LIMIT_MS);
    if (over.length > 0) {
      console.error(`\n${over.length} test(s) took over ${LIMIT_MS} ms: make them smaller (volume belongs in npm run bench).`);
      process.exitCode = 1;
    }
  }
}

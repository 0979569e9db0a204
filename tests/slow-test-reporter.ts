/**
 * Fails the run when any test took longer than SLOW_TEST_LIMIT_MS (default 15 s), and prints
 * the slowest tests of every run: volume belongs in benchmarks, and a suite that is only green
 * on an idle machine is red. (A test over the limit may still pass on its own; the run fails.)
 * `npm run test:reliability` (the large scenarios, volume by design) sets a limit of 15 minutes.
 */
import type { Reporter, TestCase, TestModule } from 'vitest/node';

const LIMIT_MS = Number(process.env.SLOW_TEST_LIMIT_MS ?? 15_000);

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

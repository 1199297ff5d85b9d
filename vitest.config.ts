import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The live e2e tests run against the clock (a real-time stream, probes every few seconds), so they
 * go first and the heaviest CPU-bound file (engram reproduce at every experiment's toy size) goes
 * last: the two never share the machine's cores. Everything else keeps vitest's own order.
 */
class LiveFirst extends BaseSequencer {
  async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification) => (f.moduleId.endsWith('test/e2e/live.test.ts') ? 0 : f.moduleId.endsWith('test/e2e/reproduce.test.ts') ? 2 : 1);
    return [...sorted].sort((a, b) => rank(a) - rank(b));
  }
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    sequence: { sequencer: LiveFirst },
  },
});

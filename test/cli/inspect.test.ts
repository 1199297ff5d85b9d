/** engram inspect's summary line: only a stored memory is counted as one, as memorize's summary does. */
import { describe, expect, it } from 'vitest';
import { describeInspect } from '../../cli/inspect.ts';
import type { AttractorMonitorItem } from '../../events.ts';

const item = (o: Partial<AttractorMonitorItem>): AttractorMonitorItem => ({ index: 0, what: 'sequence 0 (4 samples)', period: 4, rho: 0.5, top: [], attractor: true, ...o });

describe('describeInspect', () => {
  it('a stored cycle that is an attractor', () => {
    expect(describeInspect({ n: 1, items: [item({ stored: true, rho: 1.29e-8 })] })).toBe('1/1 stored cycle is an attractor; ρ 1.29e-8…1.29e-8');
  });

  it('a training cycle the net does not come back to is no stored memory, even where its certificate attracts', () => {
    const s = describeInspect({ n: 1, items: [item({ stored: false, rho: 0.3, attractor: true })] });
    expect(s).toBe('no stored memory to certify; 1/1 training cycle is not a stored memory (the network does not come back to it); at the training points 1/1 is attracting; ρ 0.300…0.300');
    expect(s).not.toMatch(/1\/1 cycles? (are|is) (an )?attractors?/);
  });

  it('stored and not stored examples are counted apart', () => {
    const items = [item({ index: 0, period: 1, stored: true, rho: 0.2 }), item({ index: 1, period: 1, stored: true, rho: 1.5, attractor: false }), item({ index: 2, period: 1, stored: false, rho: 3, attractor: false })];
    expect(describeInspect({ n: 3, items })).toBe('1/2 stored examples are attractors; 1/3 training examples is not a stored memory (the network does not come back to it); at the training points 0/1 are attracting; ρ 0.200…3.00');
  });
});

import { describe, expect, it } from 'vitest';
import type { MarginsEvent } from '../../../events.ts';
import { plotSvg } from '../../../sinks/plot.ts';
import { marginsPlot, plotTokens } from '../../../sinks/plots/margins.ts';

const ev = (step: number, tokens: [number, number, number][]): MarginsEvent => ({
  kind: 'margins', runId: 'r', step, time: 0, n: 10, m: 3, min: Math.min(...tokens.map((t) => t[2])), median: 0, fractionPositive: 0.5,
  loss: 1 / step, loss01: 0.1, flips: 0, lambdaMax: null, stability: null, tokens: tokens.map(([token, p, margin]) => ({ token, p, margin, flips: 0 })),
});

describe('margins plot', () => {
  it('needs two events after step 0', () => {
    expect(marginsPlot([ev(0, [[0, 1, 0]]), ev(1, [[0, 1, 1]])])).toBeNull();
  });

  it('draws the most and least frequent tokens that every event lists', () => {
    const toks = (s: number): [number, number, number][] => Array.from({ length: 10 }, (_, i) => [i, (10 - i) / 55, s * i]);
    const events = [ev(1, toks(1)), ev(10, toks(10).filter(([i]) => i !== 9)), ev(100, toks(100))];
    expect(plotTokens(events, 4)).toEqual([0, 1, 7, 8]); // token 9 is missing from one event
  });

  it('renders to SVG with a log step axis', async () => {
    const spec = marginsPlot([ev(1, [[0, 0.6, -1], [1, 0.4, 0.5]]), ev(10, [[0, 0.6, 2], [1, 0.4, 1]]), ev(100, [[0, 0.6, 4], [1, 0.4, 3]])])!;
    const svg = await plotSvg(spec);
    expect(svg).toMatch(/^<svg/);
    expect(svg).toContain('step (log)');
    expect(svg).toContain('token 0 (p=0.60)');
  });
});

/** Without a terminal: when the CLI picks plain lines over the dashboard, and what those lines say. */
import { describe, expect, it } from 'vitest';
import { dashboardWanted } from '../../cli/execute.ts';
import { createProgressPrinter, formatSummary, LIVE_LINE_MS } from '../../cli/progress.ts';
import { reduceEvents } from '../../tui/view-state.ts';
import { fixtureRun, liveRun } from '../tui/fixtures.ts';

describe('without a terminal', () => {
  it('chooses plain lines for --no-tui, --quiet, a pipe, CI=true and TERM=dumb', () => {
    const tty = { isTTY: true }, env = { TERM: 'xterm-256color' };
    expect(dashboardWanted({ noTui: false, quiet: false }, tty, env)).toBe(true);
    expect(dashboardWanted({ noTui: true, quiet: false }, tty, env)).toBe(false);
    expect(dashboardWanted({ noTui: false, quiet: true }, tty, env)).toBe(false);
    expect(dashboardWanted({ noTui: false, quiet: false }, { isTTY: false }, env)).toBe(false);
    expect(dashboardWanted({ noTui: false, quiet: false }, {}, env)).toBe(false);
    expect(dashboardWanted({ noTui: false, quiet: false }, tty, { ...env, CI: 'true' })).toBe(false);
    expect(dashboardWanted({ noTui: false, quiet: false }, tty, { ...env, CI: 'false' })).toBe(true);
    expect(dashboardWanted({ noTui: false, quiet: false }, tty, { TERM: 'dumb' })).toBe(false);
  });

  it('prints plain progress lines, one per notable event, no escapes', () => {
    const out: string[] = [];
    const p = createProgressPrinter({ quiet: false, maxSteps: 20000, lossTarget: 1e-8 }, (l) => out.push(l));
    for (const e of fixtureRun({ steps: 600 })) p(e);
    const text = out.join('\n');
    expect(text).not.toMatch(/\x1b\[/);
    expect(text).toMatch(/^dataset: 48 frames of 32x32x1/m);
    expect(text).toMatch(/^loss spike at step 200/m);
    expect(text).toMatch(/^recall from gaussian: cycle/m);
    expect(text).toMatch(/^attractors \(reduced Jacobian/m);
    expect(out.filter((l) => l.startsWith('step ')).length).toBeLessThan(10);
  });

  it('prints a live run: its stream every 5 s of the run and at each change of state, and every probe', () => {
    const out: string[] = [];
    const p = createProgressPrinter({ quiet: false, maxSteps: 20000, lossTarget: 1e-8 }, (l) => out.push(l));
    for (const e of liveRun({ seconds: 40 })) p(e);
    expect(out.join('\n')).not.toMatch(/\x1b\[/);
    const live = out.filter((l) => l.startsWith('live: '));
    // seconds 1, 6, …, 26, then the gap at 30 and the reconnect at 31, then 36
    expect(live).toHaveLength(9);
    expect(LIVE_LINE_MS).toBe(5000);
    expect(live[0]).toBe('live: 10.0 fps in, 2.0 admitted, 80% dropped · 2 stored (frames 8–9) · 50.0 steps/frame · connected');
    expect(live[1]).toBe('live: 10.0 fps in, 3.0 admitted, 70% dropped · 15 stored (frames 45–59) · 33.3 steps/frame · connected');
    expect(live[6]).toBe('live: 0.0 fps in, 0.0 admitted, 0% dropped · 48 stored (frames 242–289) · reconnecting (gap 1)');
    expect(live[7]).toMatch(/ · connected \(1 gap\)$/);
    const probes = out.filter((l) => /^(not )?recallable now: /.test(l));
    expect(probes).toHaveLength(8);
    expect(probes[0]).toBe('not recallable now: 6/12 out of order, 24.5 dB, NOT certified ρ 1.4 (frames 38–49)');
    expect(probes.at(-1)).toBe('recallable now: 48/48 in order, 131.2 dB, certified ρ 0.09 (frames 342–389)');
    expect(out.filter((l) => l.startsWith('step ')).length).toBeLessThan(5 * 40); // training lines stay throttled
  });

  it('sums up a live run: the stream as a whole and the newest probe', () => {
    const s = formatSummary(reduceEvents(liveRun({ seconds: 40 })), 'runs/live');
    expect(s).toContain('stream          : 390 frames in, 97 admitted, 293 dropped, 1 gap in 40 s (connected); 48 in memory (frames 342–389)');
    expect(s).toContain('recallable now  : yes: 48/48 in order, 131.2 dB, certified ρ 0.09 (frames 342–389); 3/8 probes recallable');
    expect(formatSummary(reduceEvents(fixtureRun({ steps: 50 })), 'runs/x')).not.toContain('stream');
  });
});

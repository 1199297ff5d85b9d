/** Without a terminal: when the CLI picks plain lines over the dashboard, and what those lines say. */
import { describe, expect, it } from 'vitest';
import { dashboardWanted } from '../../cli/execute.ts';
import { createProgressPrinter } from '../../cli/progress.ts';
import { fixtureRun } from '../tui/fixtures.ts';

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
});

/**
 * engram inspect <run-dir>: certify every stored memory of a saved run (pipelines/inspect.ts) and
 * say how many are attractors.
 */
import type { AttractorMonitorEvent } from '../events.ts';
import { inspectJob } from '../pipelines/inspect.ts';
import { readRunJson } from '../pipelines/run-dir.ts';
import { eigMethodOf, type Parsed } from './args.ts';
import { execute, presenterOf } from './execute.ts';
import type { StartBackend } from './main.ts';

export async function inspectCommand(args: Parsed, runDir: string, startBackend: StartBackend): Promise<number> {
  const method = eigMethodOf(args.values);
  readRunJson(runDir); // a non-run directory is refused before the backend starts
  await startBackend(args);
  return execute({
    presenter: presenterOf(args, { dashboard: false }),
    start: () => inspectJob({ runDir, method, command: ['engram', ...process.argv.slice(2)].join(' ') }),
    line: (e) => (e.kind === 'attractor-monitor' ? null : undefined),
    summary: (_view, events) => {
      const e = events.find((x): x is AttractorMonitorEvent => x.kind === 'attractor-monitor');
      if (!e) return null;
      const rhos = e.items.map((i) => i.rho);
      const unit = e.items.some((i) => i.period > 1) ? 'cycles' : 'examples';
      return `inspect ${runDir} (step ${e.step}, ${e.method} Jacobian, ${e.solver}, ${(e.ms / 1000).toFixed(1)} s): ` +
        `${e.attractors}/${e.n} ${unit} are attractors; ρ ${rhos.length ? `${Math.min(...rhos).toPrecision(3)}…${Math.max(...rhos).toPrecision(3)}` : 'n/a'}` +
        events.flatMap((x) => (x.kind === 'artifact' ? [`\n  wrote ${x.path}`] : [])).join('');
    },
    stopped: () => `inspect of ${runDir} stopped; nothing was written`,
  });
}

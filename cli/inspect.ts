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
      return `inspect ${runDir} (step ${e.step}, ${e.method} Jacobian, ${e.solver}, ${(e.ms / 1000).toFixed(1)} s): ${describeInspect(e)}` +
        events.flatMap((x) => (x.kind === 'artifact' ? [`\n  wrote ${x.path}`] : [])).join('');
    },
    stopped: () => `inspect of ${runDir} stopped; nothing was written`,
  });
}

/**
 * The certificates in words, as memorize's summary says them: only a stored memory counts (else "no
 * stored memory to certify"); training examples/cycles the network does not come back to are said
 * to be no stored memory, with what their certificate found.
 */
export function describeInspect(e: Pick<AttractorMonitorEvent, 'items' | 'n'>): string {
  const cycles = e.items.some((i) => i.period > 1);
  const unit = (k: number) => (cycles ? (k === 1 ? 'cycle' : 'cycles') : (k === 1 ? 'example' : 'examples'));
  const attr = (xs: AttractorMonitorEvent['items']) => xs.filter((i) => i.attractor).length;
  const stored = e.items.filter((i) => i.stored !== false), other = e.items.filter((i) => i.stored === false);
  const rhos = e.items.map((i) => i.rho);
  const parts = [stored.length ? `${attr(stored)}/${stored.length} stored ${unit(stored.length)} ${stored.length === 1 ? 'is an attractor' : 'are attractors'}` : 'no stored memory to certify'];
  if (other.length) {
    parts.push(`${other.length}/${e.n} training ${unit(e.n)} ${other.length === 1 ? 'is' : 'are'} not a stored memory (the network does not come back to ${other.length === 1 ? 'it' : 'them'}); ` +
      `at the training points ${attr(other)}/${other.length} ${attr(other) === 1 ? 'is' : 'are'} attracting`);
  }
  parts.push(`ρ ${rhos.length ? `${Math.min(...rhos).toPrecision(3)}…${Math.max(...rhos).toPrecision(3)}` : 'n/a'}`);
  return parts.join('; ');
}

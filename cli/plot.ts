/**
 * `engram plot <run-dir>`: read the run's events.jsonl and (re)draw every registered plot whose
 * events are present into the run directory (sinks/plots/index.ts lists them).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { EngramError } from '../errors.ts';
import { PLOT_BUILDERS, writePlots } from '../sinks/plots/index.ts';
import { readRunJson } from '../sinks/run-dir.ts';
import { readEventLog } from '../sources/event-log.ts';
import type { Parsed } from './args.ts';

export async function plotCommand(_args: Parsed, rest: string[]): Promise<number> {
  if (rest.length !== 1) throw new EngramError('E_BAD_ARGUMENT', 'plot takes one run directory: engram plot <run-dir>');
  const runDir = rest[0];
  if (!existsSync(runDir)) throw new EngramError('E_INPUT_MISSING', `run directory ${runDir} does not exist; pass a directory made by engram memorize, demo or identity`);
  readRunJson(runDir); // names a directory that is not a run
  const log = join(runDir, 'events.jsonl');
  if (!existsSync(log)) throw new EngramError('E_INPUT_MISSING', `${runDir} has no events.jsonl, so there is nothing to plot; re-run the command that made it`);
  const { events, skipped, problems, torn } = readEventLog(log);
  if (torn) console.error(`note: the last line of ${log} was cut short (an interrupted write) and is ignored`);
  if (skipped) console.error(`note: ${skipped} unreadable line(s) in ${log} were skipped (${problems.join('; ')}${skipped > problems.length ? '; …' : ''})`);
  const { written, failed } = await writePlots(events, runDir);
  for (const f of failed) console.error(`engram: plot ${f.name} not drawn: ${f.error}`);
  if (failed.length && written.length === 0) {
    throw new EngramError('E_OUTPUT_UNWRITABLE', `no plot could be drawn in ${runDir}; check the directory is writable`);
  }
  if (written.length === 0) {
    console.log(`no plots for ${runDir}: its ${events.length} events have none of ${PLOT_BUILDERS.map((b) => b.name).join(', ')}`);
    return 0;
  }
  for (const w of written) console.log(`${w.name}: ${w.path}`);
  return 0;
}

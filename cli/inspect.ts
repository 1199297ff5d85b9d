/**
 * engram inspect <run-dir>: load the run's final (else newest) checkpoint, certify every stored
 * memory — each autoencoded example at its stored point, each cycle around its training sequence —
 * and write attractors.json (per memory ρ, top-k λ, attractor flag; method, solver; totals) and the
 * histograms rho-hist.png and top-eig-hist.png. The result is also appended to events.jsonl as an
 * `attractor-monitor` event (phase 'inspect'), so the plots can be rebuilt from the event log.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { BackendInfo } from '../engine/backend.ts';
import { chooseEigMethod } from '../engine/certify.ts';
import { modelFromCheckpoint } from '../engine/checkpoint.ts';
import { fcModel } from '../engine/model.ts';
import { EngramError } from '../errors.ts';
import type { AttractorMonitorEvent } from '../events.ts';
import { monitorSnapshot } from '../operators/attractor-monitor.ts';
import { datasetFromCheckpoint, splitRows } from '../pipelines/memorize.ts';
import { checkpointStore } from '../sinks/checkpoints.ts';
import { appendEvent } from '../sinks/events-jsonl.ts';
import { writePlot } from '../sinks/plot.ts';
import { rhoHistSpec, topEigHistSpec } from '../sinks/plots/attractor-hist.ts';
import { readRunJson, writeJsonAtomic } from '../sinks/run-dir.ts';
import { eigMethodOf, type Parsed } from './args.ts';

/** Iterations from x_i towards its fixed point before certifying an autoencoded example. */
export const INSPECT_SETTLE = 10;

export interface InspectResult {
  event: AttractorMonitorEvent;
  checkpoint: string;
  objective: string;
  files: string[];
}

export async function inspectRun(runDir: string, o: { method?: ReturnType<typeof eigMethodOf>; topK?: number } = {}): Promise<InspectResult> {
  const run = readRunJson(runDir);
  const newest = checkpointStore(runDir).newest();
  if (!newest) {
    throw new EngramError('E_INPUT_MISSING', `${runDir} has no loadable checkpoint (run status: ${run.status}); memorize again to make one`);
  }
  const ck = newest.contents;
  const data = datasetFromCheckpoint(ck);
  const frames = splitRows(data.inputs, data.n, data.dim);
  const sequences: Float32Array[][] = [];
  let at = 0;
  for (const len of data.sequenceLengths) {
    sequences.push(frames.slice(at, at + len));
    at += len;
  }
  const model = fcModel(modelFromCheckpoint(newest.path, ck));
  let snap;
  try {
    // inspect certifies: 'auto' is the exact dense rule of engine/certify.ts (the monitor's auto is arnoldi)
    snap = monitorSnapshot(model, sequences, data.objective as 'autoencode' | 'cycle' | 'multi-cycle', {
      maxExamples: Number.POSITIVE_INFINITY, method: chooseEigMethod(model, o.method ?? 'auto'), topK: o.topK ?? 5, settle: INSPECT_SETTLE,
    });
  } finally {
    model.dispose();
  }
  const event: AttractorMonitorEvent = {
    ...snap, kind: 'attractor-monitor', runId: run.id, step: ck.step, time: Date.now(), phase: 'inspect', totalMs: snap.ms, trainMs: 0,
  };
  const json = join(runDir, 'attractors.json');
  writeJsonAtomic(json, {
    run: run.id, checkpoint: newest.path, step: ck.step, objective: data.objective, method: event.method, solver: event.solver,
    settle: data.objective === 'autoencode' ? INSPECT_SETTLE : 0,
    totals: { attractors: event.attractors, n: event.n, total: event.total },
    items: event.items, rhoHist: event.rhoHist, topEigHist: event.topEigHist, pooled: event.pooled, ms: event.ms,
  });
  const files = [json];
  for (const [name, spec] of [['rho-hist.png', rhoHistSpec([event])], ['top-eig-hist.png', topEigHistSpec([event])]] as const) {
    if (spec) files.push(await writePlot(join(runDir, name), spec));
  }
  const log = join(runDir, 'events.jsonl');
  if (existsSync(log)) appendEvent(log, event);
  return { event, checkpoint: newest.path, objective: data.objective, files };
}

export async function inspectCommand(args: Parsed, runDir: string, startBackend: (a: Parsed) => Promise<BackendInfo>): Promise<number> {
  const method = eigMethodOf(args.values);
  readRunJson(runDir); // a non-run directory is refused before the backend starts
  await startBackend(args);
  const r = await inspectRun(runDir, { method });
  const e = r.event;
  const rhos = e.items.map((i) => i.rho);
  const unit = r.objective === 'autoencode' ? 'examples' : 'cycles';
  console.log(`inspect ${runDir} (step ${e.step}, ${e.method} Jacobian, ${e.solver}, ${(e.ms / 1000).toFixed(1)} s): ` +
    `${e.attractors}/${e.n} ${unit} are attractors; ρ ${rhos.length ? `${Math.min(...rhos).toPrecision(3)}…${Math.max(...rhos).toPrecision(3)}` : 'n/a'}`);
  for (const f of r.files) console.log(`  wrote ${f}`);
  return 0;
}

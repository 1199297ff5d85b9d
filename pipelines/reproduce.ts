/**
 * `engram reproduce`: the research's experiments, one after another, each through the pipelines a
 * user runs (memorize, basins, identity, assoc) as sub-runs in reports/<name>/runs/, and each ending
 * in a report (report.md, report.html, result.json, plots) with an "as published / measured /
 * agrees?" table. A failed experiment is reported and the next one runs; a stop (Ctrl-C) cancels
 * the experiment in progress (its sub-run saves its checkpoint as any run does) and writes no
 * report for it.
 *
 *   experiments: ──a──────────────b─────────────c──|
 *   events:      S─p─p─p─E(a)─S─p─E(b, failed)─S─p─E(c)─(index)|
 *
 *   S/E = experiment start/end events, p = progress events (the sub-runs' steps, about one a second).
 *   The index (reports/index.md, index.html) lists every report in the directory, old and new.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { cpus, freemem, platform, release, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Observable, type Subscription } from 'rxjs';
import type { BackendInfo } from '../engine/backend.ts';
import { EngramError, isEngramError } from '../errors.ts';
import type { EngramEvent, EventBody, ExperimentEvent, LogEvent } from '../events.ts';
import { ensureReportDir, removeEarlierRuns, writeReport, writeReportPlot, type ReportBlock, type ReportDoc } from '../sinks/report.ts';
import type { PlotSpec } from '../sinks/plot.ts';
import { unwritableWhy } from '../sinks/run-dir.ts';
import { EXPERIMENTS } from './experiments/index.ts';

export type ReproduceSize = 'toy' | 'quick' | 'full';
export type Agreement = 'agrees' | 'partly' | 'disagrees';

export interface ReproduceConfig {
  runId: string;
  /** The command line, as typed. */
  command: string;
  /** Names, in the order they run. */
  experiments: string[];
  size: ReproduceSize;
  /** The reports' root: reports/<name>/ per experiment. */
  outDir: string;
  force: boolean;
  seed: number;
  /** A directory of natural footage (the experiments that need one look here; absent: ../shared/media beside the repository, if there). */
  media: string | null;
}

/** One row of the "as published / measured / agrees?" table. */
export interface ComparisonRow {
  what: string;
  published: string;
  measured: string;
  agrees: 'yes' | 'partly' | 'no' | 'n/a';
  /** Where it does not agree: why (size, steps, precision, …). */
  why?: string;
}

/** What an experiment found. */
export interface ExperimentOutcome {
  status: Agreement;
  /** One line: does it agree with the published result, and where not, why. */
  summary: string;
  rows: ComparisonRow[];
  /** Every measured number, for result.json. */
  measured: Record<string, unknown>;
  /** The report's body after the table: plots (written with ctx.plot), details. */
  blocks: ReportBlock[];
}

export interface Experiment {
  name: string;
  title: string;
  /** The published result, in a sentence or two (the report quotes it). */
  published: string;
  /** What each size runs, in a sentence (the report says which one ran). */
  sizes: Record<ReproduceSize, string>;
  /** Why it cannot run on this machine (a missing tool or input), or null. Said as a skip, not a failure. */
  unavailable?(ctx: Pick<ExperimentContext, 'media' | 'size'>): string | null;
  run(ctx: ExperimentContext): Promise<ExperimentOutcome>;
}

export interface ExperimentContext {
  readonly name: string;
  readonly size: ReproduceSize;
  /** reports/<name>/ */
  readonly dir: string;
  readonly backend: BackendInfo;
  readonly seed: number;
  readonly force: boolean;
  /** The natural-footage directory, or null when there is none. */
  readonly media: string | null;
  /**
   * Run one of engram's pipelines as the sub-run `sub` (its run directory is dir/runs/<sub>); its
   * training steps and progress become progress events of this experiment. Resolves to its events
   * (all but train-step); rejects with its error. `command` is the equivalent command line, said in
   * the report.
   */
  run(sub: string, command: string, start: (outDir: string, runId: string) => Observable<EngramEvent>, o?: { steps?: number }): Promise<EngramEvent[]>;
  /** Progress of the experiment's own work (outside a sub-run). */
  progress(done: number, total: number | null, stage: string, unit?: string): void;
  log(message: string, level?: LogEvent['level']): void;
  /** Draw a plot into dir; returns its file name. */
  plot(file: string, spec: PlotSpec): Promise<string>;
  /** Throws when the run was stopped (call between long stages of the experiment's own work). */
  checkCancelled(): void;
  /** Lets the event loop turn (progress lines, signals) during the experiment's own long loops. */
  yieldNow(): Promise<void>;
}

/** Where engram is installed (the repository root): its commit and the default footage live beside it. */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The natural footage beside the repository (../shared/media), when it is there. */
export function defaultMediaDir(root = ROOT): string | null {
  const dir = resolve(root, '..', 'shared', 'media');
  return existsSync(dir) && statSync(dir).isDirectory() ? dir : null;
}

export function experimentNames(): string[] {
  return EXPERIMENTS.map((e) => e.name);
}

/** `all`, one name, or a comma-separated list → the experiments, in the registry's order for `all`. */
export function selectExperiments(names: string[]): string[] {
  const known = experimentNames();
  const asked = names.flatMap((n) => n.split(',')).map((n) => n.trim()).filter((n) => n !== '');
  if (asked.length === 0) throw new EngramError('E_BAD_ARGUMENT', `reproduce needs an experiment: all, or one of ${known.join(', ')}`);
  if (asked.includes('all')) return known;
  const unknown = asked.filter((n) => !known.includes(n));
  if (unknown.length) throw new EngramError('E_BAD_ARGUMENT', `unknown experiment${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `'${n}'`).join(', ')}; the experiments are ${known.join(', ')} (or all)`);
  return [...new Set(asked)];
}

/**
 * Before anything starts: the reports' root must be writable, and an experiment's directory that
 * holds an earlier report is only replaced with --force (E_OUTPUT_EXISTS otherwise).
 */
export function checkReportsDir(cfg: Pick<ReproduceConfig, 'outDir' | 'experiments' | 'force'>): void {
  const why = unwritableWhy(cfg.outDir);
  if (why) throw new EngramError('E_OUTPUT_UNWRITABLE', `--out ${cfg.outDir}: ${why}; choose another --out`);
  if (cfg.force) return;
  const taken = cfg.experiments.filter((n) => {
    const d = join(cfg.outDir, n);
    return existsSync(d) && statSync(d).isDirectory() && readdirSync(d).length > 0;
  });
  if (taken.length) {
    throw new EngramError('E_OUTPUT_EXISTS', `${taken.map((n) => join(cfg.outDir, n)).join(', ')} already hold${taken.length > 1 ? '' : 's'} a report; ` +
      'add --force to replace it, or choose another --out');
  }
}

/**
 * The commit engram runs from, read from .git without running git (null outside a clone). In a
 * worktree .git is a file naming its own git directory (HEAD there; refs in the common one).
 */
export function commitOf(root = ROOT): string | null {
  try {
    let git = join(root, '.git');
    let common = git;
    if (statSync(git).isFile()) {
      git = resolve(root, readFileSync(git, 'utf8').trim().replace(/^gitdir:\s*/, ''));
      common = existsSync(join(git, 'commondir')) ? resolve(git, readFileSync(join(git, 'commondir'), 'utf8').trim()) : git;
    }
    const head = readFileSync(join(git, 'HEAD'), 'utf8').trim();
    if (!head.startsWith('ref: ')) return head;
    const ref = head.slice(5);
    for (const dir of [git, common]) if (existsSync(join(dir, ref))) return readFileSync(join(dir, ref), 'utf8').trim();
    const packed = readFileSync(join(common, 'packed-refs'), 'utf8').split('\n').find((l) => l.endsWith(` ${ref}`));
    return packed ? packed.split(' ')[0] : null;
  } catch {
    return null;
  }
}

export interface Provenance {
  command: string;
  commit: string | null;
  date: string;
  size: ReproduceSize;
  machine: { cpus: number; cpu: string; memoryGiB: number; freeGiB: number; os: string; node: string };
  backend: { name: string; blas: string | null; threads: number };
}

function provenance(cfg: ReproduceConfig, backend: BackendInfo): Provenance {
  const c = cpus();
  return {
    command: cfg.command, commit: commitOf(), date: new Date().toISOString(), size: cfg.size,
    machine: {
      cpus: c.length, cpu: c[0]?.model?.trim() ?? 'unknown', memoryGiB: +(totalmem() / 2 ** 30).toFixed(1), freeGiB: +(freemem() / 2 ** 30).toFixed(1),
      os: `${platform()} ${release()}`, node: process.version,
    },
    backend: { name: backend.name, blas: backend.blas, threads: backend.threads },
  };
}

class Cancelled extends Error {}

/** The whole reproduce run as one event stream (the CLI's executor shows it and gives the exit code). */
export function reproduce(cfg: ReproduceConfig, backend: BackendInfo): Observable<EngramEvent> {
  return new Observable<EngramEvent>((sub) => {
    let cancelled = false;
    let inner: Subscription | null = null;
    let rejectInner: ((e: unknown) => void) | null = null;
    let step = 0;
    const ev = (body: EventBody): EngramEvent => ({ ...body, runId: cfg.runId, step, time: Date.now() } as EngramEvent);
    const emit = (body: EventBody) => {
      if (!cancelled) sub.next(ev(body));
    };
    const runProv = provenance(cfg, backend);

    const contextFor = (exp: Experiment, commands: string[]): ExperimentContext => {
      const dir = join(cfg.outDir, exp.name);
      let lastProgress = 0;
      const progress = (done: number, total: number | null, stage: string, unit = 'steps', force = false) => {
        const now = Date.now();
        if (!force && now - lastProgress < 1000) return;
        lastProgress = now;
        emit({ kind: 'progress', what: 'experiment', source: exp.name, stage, done, total, unit });
      };
      return {
        name: exp.name, size: cfg.size, dir, backend, seed: cfg.seed, force: cfg.force, media: cfg.media,
        run: (name, command, start, o = {}) => new Promise<EngramEvent[]>((res, rej) => {
          if (cancelled) return rej(new Cancelled());
          commands.push(command);
          const events: EngramEvent[] = [];
          const outDir = join(dir, 'runs', name);
          rejectInner = rej;
          inner = start(outDir, `${exp.name}-${name}`).subscribe({
            next: (e) => {
              if (e.kind === 'train-step') progress(e.step, o.steps ?? null, `${name}: training`);
              else {
                events.push(e);
                if (e.kind === 'progress') progress(e.done, e.total, `${name}: ${e.what}${e.stage ? ` (${e.stage})` : ''}`, e.unit);
              }
            },
            error: (e: unknown) => {
              inner = null;
              rejectInner = null;
              rej(e);
            },
            complete: () => {
              inner = null;
              rejectInner = null;
              res(events);
            },
          });
        }),
        progress: (done, total, stage, unit) => progress(done, total, stage, unit),
        log: (message, level = 'info') => emit({ kind: 'log', level, message: `${exp.name}: ${message}` }),
        plot: (file, spec) => writeReportPlot(ensureReportDir(dir), file, spec),
        checkCancelled: () => {
          if (cancelled) throw new Cancelled();
        },
        yieldNow: () => new Promise<void>((r) => setImmediate(r)),
      };
    };

    const runOne = async (exp: Experiment): Promise<ExperimentEvent['status']> => {
      const started = Date.now();
      const dir = join(cfg.outDir, exp.name);
      const prov = { ...runProv, date: new Date(started).toISOString() };
      emit({ kind: 'experiment', name: exp.name, phase: 'start' });
      const commands: string[] = [];
      const ctx = contextFor(exp, commands);
      const end = (status: NonNullable<ExperimentEvent['status']>, summary: string, report: string | undefined, errorCode?: string) => {
        emit({ kind: 'experiment', name: exp.name, phase: 'end', status, summary, wallMs: Date.now() - started, ...(report ? { report } : {}), ...(errorCode ? { errorCode } : {}) });
        return status;
      };
      if (cfg.force) {
        const removed = removeEarlierRuns(dir);
        if (removed.length) emit({ kind: 'log', level: 'info', message: `${exp.name}: --force: removed the earlier sub-runs ${removed.join(', ')}` });
      }
      const skip = exp.unavailable?.(ctx) ?? null;
      if (skip) {
        const report = writeReport(dir, skippedDoc(exp, cfg, skip, prov), { name: exp.name, title: exp.title, status: 'skipped', summary: skip, provenance: prov });
        return end('skipped', skip, report);
      }
      try {
        const out = await exp.run(ctx);
        if (cancelled) throw new Cancelled();
        const wallMs = Date.now() - started;
        const report = writeReport(dir, reportDoc(exp, cfg, out, commands, prov, wallMs), {
          name: exp.name, title: exp.title, status: out.status, summary: out.summary, size: cfg.size, published: exp.published,
          rows: out.rows, measured: out.measured, commands, provenance: prov, wallMs,
        });
        return end(out.status, out.summary, report);
      } catch (e) {
        if (e instanceof Cancelled || cancelled) throw new Cancelled();
        const code = isEngramError(e) ? e.code : 'E_INTERNAL';
        const message = e instanceof Error ? e.message : String(e);
        const detail = isEngramError(e) ? message : `internal error: ${e instanceof Error ? (e.stack ?? message) : message}`;
        let report: string | undefined;
        try {
          report = writeReport(dir, failedDoc(exp, cfg, code, detail, commands, prov), { name: exp.name, title: exp.title, status: 'failed', errorCode: code, error: detail, commands, provenance: prov });
        } catch (w) {
          emit({ kind: 'log', level: 'error', message: `${exp.name}: the failure report could not be written either: ${(w as Error).message}` });
        }
        return end('failed', `${code}: ${message.split('\n')[0]}`, report, code);
      }
    };

    (async () => {
      const byName = new Map(EXPERIMENTS.map((e) => [e.name, e]));
      for (const [i, name] of cfg.experiments.entries()) {
        step = i;
        await runOne(byName.get(name)!);
      }
      step = cfg.experiments.length;
      const index = writeIndex(cfg.outDir, { ...runProv, date: new Date().toISOString() });
      emit({ kind: 'artifact', what: 'report', path: index });
    })().then(() => {
      if (!cancelled) sub.complete();
    }, (e: unknown) => {
      if (!(e instanceof Cancelled) && !cancelled) sub.error(e);
    });

    return () => {
      cancelled = true;
      inner?.unsubscribe(); // the sub-run's own teardown saves what it holds
      inner = null;
      rejectInner?.(new Cancelled());
      rejectInner = null;
    };
  });
}

const STATUS_WORDS: Record<string, string> = {
  agrees: 'Agrees with the published result.', partly: 'Agrees in part.', disagrees: 'Does not agree.',
  failed: 'Failed: no result.', skipped: 'Skipped.',
};

function headBlocks(exp: Experiment, cfg: Pick<ReproduceConfig, 'size'>): ReportBlock[] {
  return [
    { kind: 'paragraph', text: `**As published:** ${exp.published}` },
    { kind: 'paragraph', text: `**This run (${cfg.size}):** ${exp.sizes[cfg.size]}` },
  ];
}

function provenanceBlocks(prov: Provenance, commands: string[], wallMs?: number): ReportBlock[] {
  const m = prov.machine;
  return [
    { kind: 'heading', text: 'How it was run' },
    ...(commands.length ? [{ kind: 'paragraph' as const, text: 'The sub-runs (run directories under `runs/`), as engram commands:' }, { kind: 'code' as const, text: commands.join('\n') }] : []),
    {
      kind: 'list', items: [
        `command: \`${prov.command}\``,
        `commit: ${prov.commit ?? 'unknown (not a git clone)'}`,
        `date: ${prov.date}${wallMs !== undefined ? `, ${(wallMs / 1000).toFixed(1)} s` : ''}`,
        `machine: ${m.cpus} × ${m.cpu}, ${m.memoryGiB} GiB (${m.freeGiB} GiB free at the start), ${m.os}, Node ${m.node}`,
        `backend: ${prov.backend.name}${prov.backend.blas ? ` (${prov.backend.blas})` : ''}, ${prov.backend.threads} thread(s)`,
      ],
    },
  ];
}

function reportDoc(exp: Experiment, cfg: ReproduceConfig, out: ExperimentOutcome, commands: string[], prov: Provenance, wallMs: number): ReportDoc {
  return {
    title: `${exp.name}: ${exp.title}`,
    blocks: [
      { kind: 'paragraph', text: `**${STATUS_WORDS[out.status]}** ${out.summary}` },
      ...headBlocks(exp, cfg),
      { kind: 'table', head: ['', 'as published', 'measured', 'agrees?'], rows: out.rows.map((r) => [r.what, r.published, r.measured, r.agrees + (r.why ? ` (${r.why})` : '')]) },
      ...out.blocks,
      ...provenanceBlocks(prov, commands, wallMs),
    ],
  };
}

function failedDoc(exp: Experiment, cfg: ReproduceConfig, code: string, detail: string, commands: string[], prov: Provenance): ReportDoc {
  return {
    title: `${exp.name}: ${exp.title}`,
    blocks: [
      { kind: 'paragraph', text: `**${STATUS_WORDS.failed}** The experiment stopped with ${code}; the sub-runs finished so far are under \`runs/\`.` },
      { kind: 'code', text: detail },
      ...headBlocks(exp, cfg),
      ...provenanceBlocks(prov, commands),
    ],
  };
}

function skippedDoc(exp: Experiment, cfg: ReproduceConfig, why: string, prov: Provenance): ReportDoc {
  return {
    title: `${exp.name}: ${exp.title}`,
    blocks: [{ kind: 'paragraph', text: `**${STATUS_WORDS.skipped}** ${why}` }, ...headBlocks(exp, cfg), ...provenanceBlocks(prov, [])],
  };
}

/** One row per report found under the reports' root (this run's and earlier ones). */
export interface IndexRow {
  name: string;
  title: string;
  status: string;
  summary: string;
  size: string | null;
  wallMs: number | null;
  date: string | null;
  commit: string | null;
}

export function readIndexRows(outDir: string): IndexRow[] {
  const order = experimentNames();
  const rows: IndexRow[] = [];
  for (const name of order) {
    const p = join(outDir, name, 'result.json');
    if (!existsSync(p)) continue;
    try {
      const r = JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown> & { provenance?: Provenance };
      rows.push({
        name, title: String(r.title ?? ''), status: String(r.status ?? 'unknown'),
        summary: String(r.summary ?? r.error ?? ''), size: (r.size as string) ?? r.provenance?.size ?? null,
        wallMs: typeof r.wallMs === 'number' ? r.wallMs : null, date: r.provenance?.date ?? null, commit: r.provenance?.commit ?? null,
      });
    } catch {
      rows.push({ name, title: '', status: 'unreadable', summary: `${p} is not valid JSON`, size: null, wallMs: null, date: null, commit: null });
    }
  }
  return rows;
}

/** reports/index.md and index.html: every report's verdict in one table. Returns index.md's path. */
function writeIndex(outDir: string, prov: Provenance): string {
  const rows = readIndexRows(outDir);
  const doc: ReportDoc = {
    title: 'engram reproduce: the research, measured',
    blocks: [
      { kind: 'paragraph', text: `Written ${prov.date} by \`${prov.command}\` at commit ${prov.commit ?? 'unknown'} on ${prov.machine.cpus} × ${prov.machine.cpu} (${prov.backend.name}).` },
      {
        kind: 'table', head: ['experiment', 'verdict', 'summary', 'size', 'time', 'date, commit'],
        rows: rows.map((r) => [`[${r.name}](${r.name}/report.html)`, r.status, r.summary, r.size ?? '–', r.wallMs === null ? '–' : `${(r.wallMs / 1000).toFixed(0)} s`,
          `${r.date?.slice(0, 10) ?? '–'}, ${r.commit?.slice(0, 7) ?? '–'}`]),
      },
    ],
  };
  return writeReport(outDir, doc, { experiments: rows }, 'index');
}

/**
 * The contract every engram command line must keep, whatever it is given, and the machinery to
 * check it on one generated case (cli-cases.ts): lay the case's inputs out in a fresh temporary
 * directory (copies of the fixtures, damaged as the case says), run the real CLI (bin/engram.mjs) as
 * a child process in it, then check:
 *
 *  - it ends within the time limit (else: a hang), by exiting, not by a signal of its own;
 *  - the exit code is one of the documented 0, 1, 2, 3, 4, 130 (4 only for recall);
 *  - stdout and stderr hold no "internal error", TypeError, RangeError, ReferenceError, RuntimeError
 *    or stack trace;
 *  - a non-zero exit names its error: `engram: E_CODE: …` on stderr (with --json: the last stdout
 *    line is {"kind":"error","code":…}), the code one of errors.ts ERROR_CODES and its exit code the
 *    one the table gives it;
 *  - exit 0 says no "error" on stderr; with --json every stdout line is JSON;
 *  - no run.json it wrote is left `running`, no failed run holds a `recalled.*`, no complete
 *    memorize run lacks its model.ckpt or has a non-finite final loss, no `.partial` file is left;
 *  - the input files that existed before are unchanged (hashed before and after);
 *  - no process of its group is left running after it exited.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { constants, hostname, tmpdir } from 'node:os';
import { basename, dirname, isAbsolute, join, relative } from 'node:path';
import { ERROR_CODES, type ErrorCode } from '../../errors.ts';
import { exitCodeOfCode } from '../../cli/options.ts';
import { baseFlags, type CliCase, type Damage, type InputRef, type OutRef, type PathStyle, type Value } from './cli-cases.ts';
import { BIN, type Fixtures } from './fixtures.ts';

export interface Realized {
  dir: string;
  argv: string[];
  stdin?: Buffer;
  /** Paths (relative to dir) whose files must be unchanged afterwards: every file under them except the exempt ones. */
  exempt: { prefix: string; keep?: (rel: string) => boolean }[];
}

export interface Outcome {
  argv: string[];
  dir: string;
  /** The exit code, or 128 + the signal's number when a signal ended it (as a shell reports it). */
  exit: number | null;
  signal: NodeJS.Signals | null;
  sentSignal: NodeJS.Signals | null;
  ms: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** Processes of its group still running 2 s after it exited. */
  orphans: string[];
  before: Map<string, string>;
  after: Map<string, string>;
  exempt: Realized['exempt'];
}

export interface Violation {
  kind: string;
  message: string;
}

// ---------------------------------------------------------------- laying a case out

/** A small deterministic PRNG (mulberry32) for garbage bytes. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function damaged(bytes: Buffer, d: Damage): Buffer {
  switch (d.t) {
    case 'none': return bytes;
    case 'empty': return Buffer.alloc(0);
    case 'truncate': return bytes.subarray(0, Math.floor(d.at * bytes.length));
    case 'flip': {
      const b = Buffer.from(bytes);
      for (const at of d.at) if (b.length) b[Math.floor(at * b.length)] ^= 1 << d.bit;
      return b;
    }
    case 'garbage': {
      const r = prng(d.seed);
      return Buffer.from(Array.from({ length: bytes.length }, () => Math.floor(r() * 256)));
    }
  }
}

function styled(stem: string, style: PathStyle): string {
  switch (style) {
    case 'plain': case 'abs': case 'dash': case 'dot-dash': return stem;
    case 'space': return `my ${stem}`;
    case 'brackets': return `${stem}[1]`;
    case 'unicode': return `vidéo-日本-${stem}`;
    case 'star': return `${stem}*x`;
    case 'quote': return `it's "${stem}"`;
  }
}

/** How the path of `name` (in the case directory) is written on the command line. */
function spelled(dir: string, name: string, style: PathStyle): string {
  if (style === 'abs') return join(dir, name);
  if (style === 'dash') return `-${name}`;
  if (style === 'dot-dash') return `./-${name}`;
  return name;
}
/** The file name a spelled path refers to, relative to the case directory. */
const fileOf = (name: string, style: PathStyle) => (style === 'dash' || style === 'dot-dash' ? `-${name}` : name);

const OWN_EXT = { video: '.mp4', wav: '.wav', png: '.png', pngdir: '' } as const;

export function realize(c: CliCase, fx: Fixtures, root: string): Realized {
  const dir = mkdtempSync(join(root, 'case-'));
  const exempt: Realized['exempt'] = [];
  let n = 0;
  let stdin: Buffer | undefined;
  const inputs: string[] = [];
  const force = c.flags.some((f) => f.name === 'force' && f.value === undefined);

  const input = (ref: InputRef, role: 'positional' | 'resume' | 'value'): string => {
    n++;
    switch (ref.t) {
      case 'media': {
        const file = styled(`in${n}-${ref.base}`, ref.style) + (ref.ext === 'own' ? OWN_EXT[ref.base] : ref.ext);
        const name = fileOf(file, ref.style);
        if (ref.base === 'pngdir') {
          cpSync(fx.pngDir, join(dir, name), { recursive: true });
          const first = join(dir, name, 'img1.png');
          writeFileSync(first, damaged(readFileSync(first), ref.damage));
          const p = spelled(dir, file, ref.style);
          return ref.glob ? `${p}/*.png` : p;
        }
        const src = { video: fx.video, wav: fx.wav, png: fx.png }[ref.base];
        writeFileSync(join(dir, name), damaged(readFileSync(src), ref.damage));
        return spelled(dir, file, ref.style);
      }
      case 'run': {
        const stem = styled(`run${n}`, ref.style);
        const name = fileOf(stem, ref.style);
        const path = join(dir, name);
        cpSync(ref.base === 'solved' ? fx.solvedRun : fx.trainedRun, path, { recursive: true });
        damageRun(path, ref.damage, ref.at, fx.deadPid);
        if (role === 'resume') exempt.push({ prefix: name });
        else if (role === 'positional' && ['recall', 'inspect', 'plot'].includes(c.command)) {
          // these add to a run (events, recordings, plots); its checkpoints are its memory and must stay as they are
          exempt.push({ prefix: name, keep: (rel) => rel === 'model.ckpt' || rel.startsWith('checkpoints/') });
        }
        return spelled(dir, stem, ref.style);
      }
      case 'missing': return spelled(dir, styled(`missing${n}.mp4`, ref.style), ref.style);
      case 'empty-dir': {
        const stem = styled(`emptydir${n}`, ref.style);
        mkdirSync(join(dir, fileOf(stem, ref.style)));
        return spelled(dir, stem, ref.style);
      }
      case 'stdin': {
        const video = readFileSync(fx.video);
        stdin = ref.content === 'empty' ? Buffer.alloc(0)
          : ref.content === 'garbage' ? damaged(Buffer.alloc(4096), { t: 'garbage', seed: 7 })
          : ref.content === 'video' ? video : video.subarray(0, video.length >> 1);
        return '-';
      }
      case 'literal': return ref.value;
    }
  };

  const out = (o: OutRef): string => {
    n++;
    const ext = o.ext === '/' ? '' : o.ext;
    const slash = o.ext === '/' ? '/' : '';
    let name: string, spell: string;
    switch (o.where) {
      case 'fresh': {
        const stem = styled(`out${n}`, o.style) + ext;
        [name, spell] = [fileOf(stem, o.style), spelled(dir, stem, o.style) + slash];
        break;
      }
      case 'nested-missing': [name, spell] = [`no/such/out${n}${ext}`, `no/such/out${n}${ext}${slash}`]; break;
      case 'under-file':
        writeFileSync(join(dir, 'afile.txt'), 'a file, not a directory\n');
        [name, spell] = [`afile.txt/out${n}${ext}`, `afile.txt/out${n}${ext}${slash}`];
        break;
      case 'existing-file':
        name = `existing${n}${ext || '.txt'}`;
        writeFileSync(join(dir, name), 'was here before\n');
        spell = name + slash;
        break;
      case 'existing-run':
        name = `prev-run${n}`;
        cpSync(fx.solvedRun, join(dir, name), { recursive: true });
        spell = name + slash;
        break;
      case 'empty-dir': name = `emptyout${n}`; mkdirSync(join(dir, name)); spell = name + slash; break;
      case 'nonempty-dir':
        name = `fullout${n}`;
        mkdirSync(join(dir, name));
        writeFileSync(join(dir, name, 'notes.txt'), 'mine\n');
        spell = name + slash;
        break;
      case 'input': {
        const first = inputs.find((p) => p !== '-' && !p.includes('*') && existsSync(isAbsolute(p) ? p : join(dir, p)));
        spell = first ?? `out${n}${ext}${slash}`;
        name = first ? (isAbsolute(first) ? relative(dir, first) : first.replace(/^\.\//, '')) : `out${n}${ext}`;
        break;
      }
    }
    if (force) exempt.push({ prefix: name });
    return spell;
  };

  const value = (v: Value, flag: string): string => (v.t === 'str' ? v.v : v.t === 'out' ? out(v) : input(v, flag === 'resume' ? 'resume' : 'value'));

  const positionals = c.positionals.map((p) => {
    const s = input(p, 'positional');
    inputs.push(s);
    return s;
  });
  const flags = c.flags.flatMap((f) => {
    const dashes = f.dashes === 1 ? '-' : '--';
    if (f.value === undefined) return [`${dashes}${f.name}`];
    const v = value(f.value, f.name);
    if (f.value.t !== 'str' && f.value.t !== 'out') inputs.push(v);
    return f.form === 'eq' ? [`${dashes}${f.name}=${v}`] : [`${dashes}${f.name}`, v];
  });
  const head = c.command === '' ? [] : [c.command];
  const base = baseFlags(c);
  const argv = c.positionalsLast ? [...head, ...base, ...flags, ...positionals] : [...head, ...positionals, ...base, ...flags];
  return { dir, argv, ...(stdin ? { stdin } : {}), exempt };
}

function damageRun(run: string, d: InputRef extends infer R ? R extends { t: 'run'; damage: infer D } ? D : never : never, at: number, deadPid: number): void {
  const f = (name: string) => join(run, name);
  const cut = (name: string) => {
    if (existsSync(f(name))) writeFileSync(f(name), damaged(readFileSync(f(name)), { t: 'truncate', at }));
  };
  switch (d) {
    case 'none': return;
    case 'ckpt-truncated': return cut('model.ckpt');
    case 'ckpt-flipped': {
      const b = readFileSync(f('model.ckpt'));
      writeFileSync(f('model.ckpt'), damaged(b, { t: 'flip', at: [at, (at + 0.37) % 1, (at + 0.61) % 1, (at + 0.83) % 1], bit: Math.floor(at * 8) }));
      return;
    }
    case 'ckpt-deleted': return rmSync(f('model.ckpt'), { force: true });
    case 'all-ckpts-deleted':
      rmSync(f('model.ckpt'), { force: true });
      rmSync(f('checkpoints'), { recursive: true, force: true });
      return;
    case 'ckpt-empty': return writeFileSync(f('model.ckpt'), '');
    case 'runjson-truncated': return cut('run.json');
    case 'runjson-invalid': return writeFileSync(f('run.json'), '{"status": "complete", "id": \n');
    case 'runjson-deleted': return rmSync(f('run.json'), { force: true });
    case 'runjson-empty-object': return writeFileSync(f('run.json'), '{}\n');
    case 'runjson-running-dead-pid': {
      const r = JSON.parse(readFileSync(f('run.json'), 'utf8'));
      writeFileSync(f('run.json'), JSON.stringify({ ...r, status: 'running', writer: { pid: deadPid, host: hostname() }, heartbeat: new Date().toISOString() }, null, 2));
      return;
    }
    case 'events-truncated': return cut('events.jsonl');
    case 'events-empty': return writeFileSync(f('events.jsonl'), '');
    case 'events-deleted': return rmSync(f('events.jsonl'), { force: true });
    case 'events-garbage-line': {
      const lines = readFileSync(f('events.jsonl'), 'utf8').split('\n');
      lines.splice(Math.floor(at * lines.length), 0, 'not json {');
      writeFileSync(f('events.jsonl'), lines.join('\n'));
      return;
    }
  }
}

// ---------------------------------------------------------------- running it

/** Every file under `dir` (relative path → sha256; directories → 'dir'). */
export function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      let st;
      try {
        st = statSync(p);
      } catch {
        out.set(relative(dir, p), 'dangling');
        continue;
      }
      if (st.isDirectory()) {
        out.set(relative(dir, p), 'dir');
        walk(p);
      } else {
        out.set(relative(dir, p), createHash('sha256').update(readFileSync(p)).digest('hex'));
      }
    }
  };
  walk(dir);
  return out;
}

const CAP = 1 << 20;

/** The processes of group `pgid` still running (name and pid, from /proc; on other systems: a bare "alive"). */
function groupMembers(pgid: number): string[] {
  try {
    process.kill(-pgid, 0);
  } catch {
    return [];
  }
  try {
    return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).flatMap((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const close = stat.lastIndexOf(')');
        const [state, , pgrp] = stat.slice(close + 2).split(' ');
        return Number(pgrp) === pgid && state !== 'Z' ? [`${stat.slice(stat.indexOf('(') + 1, close)} (pid ${pid})`] : [];
      } catch {
        return [];
      }
    });
  } catch {
    return ['alive'];
  }
}

/** Wait up to `ms` for group `pgid` to end; what is still running then. */
async function leftRunning(pgid: number, ms: number): Promise<string[]> {
  const until = Date.now() + ms;
  for (;;) {
    const left = groupMembers(pgid);
    if (!left.length || Date.now() >= until) return left;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Run one realized case: the CLI in its own process group, stdin closed unless the case pipes it. */
export function runCase(r: Realized, o: { timeoutMs: number; signal?: CliCase['signal'] }): Promise<Outcome> {
  const before = snapshot(r.dir);
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...r.argv], {
      cwd: r.dir, detached: true, stdio: [r.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    let stdout = '', stderr = '', timedOut = false, sentSignal: NodeJS.Signals | null = null;
    child.stdout!.on('data', (d: Buffer) => { if (stdout.length < CAP) stdout += d.toString(); });
    child.stderr!.on('data', (d: Buffer) => { if (stderr.length < CAP) stderr += d.toString(); });
    if (r.stdin) {
      child.stdin!.on('error', () => {}); // the CLI may exit without reading it all
      child.stdin!.end(r.stdin);
    }
    const pgid = child.pid!;
    const killAll = (s: NodeJS.Signals) => {
      try {
        process.kill(-pgid, s);
      } catch {
        // gone already
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killAll('SIGKILL');
    }, o.timeoutMs);
    const sig = o.signal;
    let sigTimer: NodeJS.Timeout | null = null;
    const arm = () => {
      if (!sig || sigTimer) return;
      sigTimer = setTimeout(() => {
        sentSignal = sig.name;
        // Ctrl-C and a closed terminal signal the whole foreground group; kill(1) sends SIGTERM to the one process
        if (sig.name === 'SIGTERM') child.kill('SIGTERM');
        else killAll(sig.name);
      }, sig.afterMs);
    };
    if (sig?.from === 'start') arm();
    else if (sig) {
      child.stdout!.once('data', arm);
      child.stderr!.once('data', arm);
    }
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (sigTimer) clearTimeout(sigTimer);
      const ms = Date.now() - t0;
      // anything of its group still running 2 s after it exited (an ffmpeg it started) was left behind
      void leftRunning(pgid, timedOut ? 0 : 2000).then((left) => {
        if (left.length) killAll('SIGKILL');
        const signo = signal ? (constants.signals[signal] ?? 0) : 0;
        resolve({
          argv: r.argv, dir: r.dir, exit: code ?? (signal ? 128 + signo : null), signal, sentSignal, ms, stdout, stderr,
          timedOut, orphans: timedOut ? [] : left, before, after: snapshot(r.dir), exempt: r.exempt,
        });
      });
    });
  });
}

// ---------------------------------------------------------------- the contract

const DOCUMENTED_EXITS = new Set([0, 1, 2, 3, 4, 130]);
const CRASH: [RegExp, string][] = [
  [/internal error/i, 'internal error'], [/\bE_INTERNAL\b/, 'E_INTERNAL'], [/TypeError/, 'TypeError'], [/RangeError/, 'RangeError'],
  [/ReferenceError/, 'ReferenceError'], [/RuntimeError/, 'RuntimeError'], [/at file:\/\//, 'at file://'],
  [/^\s+at .+(:\d+:\d+\)?|\(native\)|<anonymous>\)?)$/m, 'stack trace'],
];
const CODE_LINE = /^engram: (E_[A-Z_]+): /m;

export function check(c: CliCase, o: Outcome): Violation[] {
  const v: Violation[] = [];
  const add = (kind: string, message: string) => v.push({ kind, message });
  const json = o.argv.includes('--json');
  const helpish = o.argv.some((a) => a === '--help' || a === '-h' || a === '--version' || a === '-v');

  if (o.timedOut) {
    add('hang', `no exit after ${o.ms} ms (killed)`);
    return v;
  }
  // a signal it did not handle: a shell reports 128 + its number; only SIGINT's (130) is documented
  const bySentSignal = o.signal !== null && o.signal === o.sentSignal;
  if (o.signal !== null && !bySentSignal) add('killed-by-signal', `the process died of ${o.signal}`);
  // (a signal that lands after it printed its error is the harness's race with an exiting process, not a fault)
  const exiting = CODE_LINE.test(o.stderr);
  if (bySentSignal && o.exit !== 130 && !exiting) add('signal-exit', `died of the ${o.signal} it was sent (exit ${o.exit} in a shell) instead of exiting 130: no handler was installed yet`);
  if (o.exit !== null && !bySentSignal) {
    if (!DOCUMENTED_EXITS.has(o.exit)) add('exit-code', `exit ${o.exit} is not one of 0, 1, 2, 3, 4, 130`);
    if (o.exit === 4 && c.command !== 'recall') add('exit-code', `exit 4 is for engram recall only (got it from ${c.command || 'no command'})`);
  }
  for (const [re, what] of CRASH) {
    const line = firstMatchLine(o.stderr, re) ?? firstMatchLine(o.stdout, re);
    if (line !== null) add('crash', `${what}: ${line}`);
  }

  const failed = o.exit !== null && o.exit !== 0 && o.exit !== 4 && o.exit !== 130 && !bySentSignal;
  if (failed) {
    const m = CODE_LINE.exec(o.stderr);
    let code: string | undefined;
    if (json) {
      const last = o.stdout.trim().split('\n').pop() ?? '';
      let e: { kind?: string; code?: string } | null = null;
      try {
        e = JSON.parse(last);
      } catch {
        e = null;
      }
      if (!e || e.kind !== 'error' || typeof e.code !== 'string') add('no-error-code', `--json: exit ${o.exit}, but the last stdout line is not {"kind":"error","code":…}: ${last.slice(0, 200)}`);
      else code = e.code;
      if (code && m && m[1] !== code) add('error-code-mismatch', `--json says ${code}, stderr says ${m[1]}`);
    } else if (!m) {
      add('no-error-code', `exit ${o.exit}, but stderr has no line 'engram: E_CODE: …'`);
    } else code = m[1];
    if (code !== undefined) {
      if (!(code in ERROR_CODES)) add('unknown-error-code', `${code} is not one of errors.ts ERROR_CODES`);
      else if (exitCodeOfCode(code as ErrorCode) !== o.exit) add('error-code-exit', `${code} should exit ${exitCodeOfCode(code as ErrorCode)}, exited ${o.exit}`);
    }
  }
  if (o.exit === 0 && /\berrors?\b/i.test(o.stderr)) add('error-on-success', `exit 0, but stderr says: ${firstMatchLine(o.stderr, /\berrors?\b/i)}`);
  if (json && !helpish) {
    const bad = o.stdout.split('\n').find((l) => l.trim() !== '' && !isJson(l));
    if (bad !== undefined) add('json-stdout', `--json: a stdout line is not JSON: ${bad.slice(0, 200)}`);
  }

  // files: nothing left half-done, nothing left claiming to run, inputs untouched
  for (const [rel, digest] of o.after) {
    if (/\.partial\b/.test(basename(rel))) add('partial-left', `${rel} was left behind`);
    if (basename(rel) !== 'run.json' || o.before.get(rel) === digest) continue;
    const runDir = dirname(rel);
    let run: { status?: string; summary?: Record<string, unknown> } | null = null;
    try {
      run = JSON.parse(readFileSync(join(o.dir, rel), 'utf8'));
    } catch {
      add('runjson-unreadable', `${rel} was written but is not JSON`);
      continue;
    }
    const files = [...o.after.keys()].filter((p) => dirname(p) === runDir).map((p) => basename(p));
    if (run?.status === 'running') add('left-running', `${rel} still says "running" after the process ended`);
    if (run?.status === 'failed') {
      const rec = files.filter((f) => f.startsWith('recalled.'));
      if (rec.length) add('failed-with-recording', `${rel} says "failed", but ${runDir} holds ${rec.join(', ')}`);
    }
    if (run?.status === 'complete' && (c.command === 'memorize' || c.command === 'demo')) {
      if (!files.includes('model.ckpt')) add('complete-without-model', `${rel} says "complete", but ${runDir} has no model.ckpt`);
      const loss = run.summary?.finalLoss;
      if (run.summary && 'finalLoss' in run.summary && !(typeof loss === 'number' && Number.isFinite(loss))) {
        add('complete-without-loss', `${rel} says "complete" with final loss ${JSON.stringify(loss)}`);
      }
    }
  }
  const changed: string[] = [];
  for (const [rel, digest] of o.before) {
    if (digest === 'dir') continue;
    const ex = o.exempt.find((e) => rel === e.prefix || rel.startsWith(`${e.prefix}/`));
    if (ex && !(ex.keep?.(relative(ex.prefix, rel)) ?? false)) continue;
    if (o.after.get(rel) !== digest) changed.push(`${rel} ${o.after.has(rel) ? 'modified' : 'removed'}`);
  }
  if (changed.length) add('input-modified', changed.join('; '));
  if (o.orphans.length) add('orphan-process', `still running 2 s after it exited: ${o.orphans.join(', ')}`);
  return v;
}

function isJson(l: string): boolean {
  try {
    JSON.parse(l);
    return true;
  } catch {
    return false;
  }
}

function firstMatchLine(text: string, re: RegExp): string | null {
  const m = re.exec(text);
  if (!m) return null;
  const start = text.lastIndexOf('\n', m.index) + 1;
  const end = text.indexOf('\n', m.index);
  return text.slice(start, end < 0 ? undefined : end).trim().slice(0, 300);
}

// ---------------------------------------------------------------- reporting

/** A shell-ready spelling of one argument. */
export const shq = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);

export function commandLine(o: Pick<Outcome, 'argv' | 'dir'>, stdinNote?: string): string {
  return `cd ${shq(o.dir)} && ${stdinNote ?? ''}node ${shq(BIN)} ${o.argv.map(shq).join(' ')}`;
}

/** The first stderr line that says most: the crash line, else the error line, else the first line. */
export function keyLine(o: Outcome): string {
  const all = `${o.stderr}\n${o.stdout}`;
  for (const [re] of CRASH) {
    const l = firstMatchLine(all, re);
    if (l) return l;
  }
  return firstMatchLine(o.stderr, CODE_LINE) ?? o.stderr.split('\n').find((l) => l.trim()) ?? '';
}

/**
 * One entry per distinct fault: the command, the kinds of violation the case showed, and the line
 * that says most (stderr's crash or error line, or the violation itself for file and process faults),
 * with paths and numbers blurred.
 */
export function signature(c: CliCase, o: Outcome, v: Violation[]): string {
  const kinds = [...new Set(v.map((x) => x.kind))].sort();
  const fileish = kinds.every((k) => ['signal-exit', 'input-modified', 'left-running', 'partial-left', 'hang', 'orphan-process', 'failed-with-recording', 'complete-without-model', 'complete-without-loss', 'runjson-unreadable'].includes(k));
  const line = (fileish ? v.map((x) => x.message).join('; ') : keyLine(o)).split(o.dir).join('<dir>')
    .replace(/\/tmp\/engram-fuzz[^\s'"]*/g, '<tmp>').replace(/\d+(\.\d+)?(e[+-]?\d+)?/gi, 'N').slice(0, 160);
  return `${c.command || '(none)'} | ${kinds.join('+')} | ${line}`;
}

export function describe(c: CliCase, o: Outcome, v: Violation[]): string {
  const stdinNote = c.positionals.some((p) => p.t === 'stdin') || c.flags.some((f) => f.value?.t === 'stdin') ? '<stdin piped> ' : '';
  return [
    ...v.map((x) => `  ✗ ${x.kind}: ${x.message}`),
    `  command: ${commandLine(o, stdinNote)}`,
    `  exit: ${o.exit}${o.signal ? ` (signal ${o.signal})` : ''}${o.sentSignal ? ` (sent ${o.sentSignal})` : ''} after ${o.ms} ms`,
    `  stderr:\n${indent(o.stderr.slice(0, 4000)) || '    (empty)'}`,
    ...(o.stdout.trim() ? [`  stdout (end):\n${indent(o.stdout.slice(-1500))}`] : []),
  ].join('\n');
}

const indent = (s: string) => s.split('\n').filter((l, i, a) => l.trim() || i < a.length - 1).map((l) => `    ${l}`).join('\n');

/** A session's root for case directories. */
export function sessionRoot(): string {
  return mkdtempSync(join(tmpdir(), 'engram-fuzz-cases-'));
}

/** Keep a case's directory for a violation, else delete it. */
export function cleanup(o: Outcome, keep: boolean): void {
  if (!keep) rmSync(o.dir, { recursive: true, force: true });
}

/** The error code a failing case gave (stderr's `engram: E_CODE:`, or --json's last line), if any. */
export function errorCodeOf(o: Outcome): string | null {
  const m = CODE_LINE.exec(o.stderr);
  if (m) return m[1];
  try {
    const e = JSON.parse(o.stdout.trim().split('\n').pop() ?? '');
    return e?.kind === 'error' && typeof e.code === 'string' ? e.code : null;
  } catch {
    return null;
  }
}

/** Lay out, run and check one case; its directory is deleted unless it broke the contract (or `keep`). */
export async function runAndCheck(c: CliCase, fx: Fixtures, root: string, o: { timeoutMs: number; keep?: boolean }): Promise<{ outcome: Outcome; violations: Violation[] }> {
  const r = realize(c, fx, root);
  const outcome = await runCase(r, { timeoutMs: o.timeoutMs, signal: c.signal });
  const violations = check(c, outcome);
  cleanup(outcome, violations.length > 0 || o.keep === true);
  return { outcome, violations };
}

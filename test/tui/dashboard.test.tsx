import { EventEmitter } from 'node:events';
import { renderToString } from 'ink';
import { render } from 'ink-testing-library';
import { Subject } from 'rxjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EVENT_KINDS, type ControlCommand, type EngramEvent, type EventKind } from '../../events.ts';
import { Dashboard } from '../../tui/Dashboard.tsx';
import { DEFAULT_COMMANDS } from '../../tui/KeyBar.tsx';
import { LiveDashboard, type KeyCommand } from '../../tui/LiveDashboard.tsx';
import { mountDashboard, type MountedDashboard } from '../../tui/mount.tsx';
import { reduceEvents, type MarginView } from '../../tui/view-state.ts';
import { ONE_OF_EACH, runStart } from '../fixtures/events/one-of-each.ts';
import { fixtureRun, liveRun } from './fixtures.ts';

const plain = (s: string | undefined) => (s ?? '').replace(/\x1b\[[0-9;]*m/g, '');
const done = reduceEvents(fixtureRun({ steps: 600 }));
/**
 * Lets Ink and React run until `what` holds. React schedules renders and effects with setImmediate
 * and Ink handles a key synchronously once its listener is attached, so this counts event-loop
 * turns, never milliseconds: a slow machine takes longer per turn, not more turns.
 */
const until = async (what: () => boolean, turns = 2000) => {
  for (let i = 0; i < turns && !what(); i++) await new Promise((r) => setImmediate(r));
  expect(what()).toBe(true);
};
/** Ink reads keys once useInput's effect has put a 'readable' listener on stdin; keys written before are lost. */
const listening = (stdin: EventEmitter) => until(() => stdin.listenerCount('readable') > 0);

const dashboard = (columns: number, rows: number, extra: Partial<Parameters<typeof Dashboard>[0]> = {}) => (
  <Dashboard state={done} columns={columns} rows={rows} now={null} colorMode="256" mode="live" showHelp={false} notice={null} {...extra} />
);

describe('Dashboard', () => {
  it('fits 80×24 (one line to spare) with every pane', () => {
    const f = plain(render(dashboard(80, 24)).lastFrame()).split('\n');
    expect(f.length).toBe(23);
    expect(Math.max(...f.map((l) => l.length))).toBeLessThanOrEqual(80);
    const text = f.join('\n');
    for (const s of ['engram complete', 'step 600/20000', 'loss (log)', 'recall cycle @600', 'spikes 1', '@200 ×30.0 12 st', 'attractors 2/3', 'run complete in 6.5 s', 'p pause']) {
      expect(text).toContain(s);
    }
    expect(text).toContain('▀');
    expect(text).toContain('▲');
  });

  it('uses the room of 160×48: a taller chart, a bigger picture, more log', () => {
    const small = plain(render(dashboard(80, 24)).lastFrame()).split('\n');
    const f = plain(renderToString(dashboard(160, 48), { columns: 160 })).split('\n');
    expect(f.length).toBe(47);
    expect(Math.max(...f.map((l) => l.length))).toBeLessThanOrEqual(160);
    const count = (ls: string[], re: RegExp) => ls.filter((l) => re.test(l)).length;
    expect(count(f, /┤/)).toBeGreaterThan(2 * count(small, /┤/));
    expect(count(f, /▀/)).toBeGreaterThan(count(small, /▀/));
    expect(f.join('\n')).toContain('wrote video: runs/x/recalled.mp4'); // older log lines fit now
    expect(f.join('\n')).toContain('✓ ρ 0.620 stored cycle 0'); // and more attractors
  });

  it('adds the margin pane when there are margins', () => {
    const margins: MarginView = { step: 600, min: 0.01, median: 0.2, fractionPositive: 1, tokens: [{ label: 'tok0', series: [0, 0.1, 0.2] }] };
    const f = plain(render(dashboard(80, 24, { state: { ...done, margins } })).lastFrame());
    expect(f).toContain('margins @600');
    expect(f).toContain('pos 100%');
    expect(plain(render(dashboard(80, 24)).lastFrame())).not.toContain('margins');
  });

  describe('a live run', () => {
    const live = reduceEvents(liveRun({ seconds: 42 }));
    const liveCommands = [...DEFAULT_COMMANDS, 'record', 'stop'] as const;
    const frame = (columns: number, rows: number) =>
      plain(renderToString(dashboard(columns, rows, { state: live, now: live.lastTime! + 400, commands: liveCommands }), { columns })).split('\n');

    it.each([[80, 24], [100, 30], [160, 48]])('fits %i×%i with the live pane beside the attractors', (columns, rows) => {
      const f = frame(columns, rows);
      expect(f.length).toBe(rows - 1);
      expect(Math.max(...f.map((l) => l.length))).toBeLessThanOrEqual(columns);
      const text = f.join('\n');
      for (const s of ['engram running', 'step 4200/20000', 'loss (log)', 'recall', 'live connected 1 gap 0:42', '10.0 fps in · 3.0 admitted · 70% dropped',
        '48 stored · frames 362–409 · 33.3 steps/frame', 'recallable now ✓ 48/48 in order · 131.2 dB', 'certified ρ 0.09 · 2 s ago', 'attractors',
        'recallable now: 48/48 in order, 131.2 dB, certified ρ 0.09', 'w record']) {
        expect(text).toContain(s);
      }
      // the live pane starts the bottom row, under the chart
      expect(f.findIndex((l) => l.startsWith('live connected'))).toBeGreaterThan(f.findIndex((l) => l.startsWith('loss (log)')));
      // the spike list gives way on a narrow terminal only
      expect(text.includes('spikes 0')).toBe(columns >= 100);
      // a taller bottom row: the rates over time and the probe's details
      expect(text.includes('3/8 probes recallable')).toBe(rows >= 41);
    });

    it('is not there for a run that is not live', () => {
      const f = plain(render(dashboard(80, 24)).lastFrame());
      expect(f).not.toContain('fps in');
      expect(f).not.toContain('w record');
    });
  });

  it('shows the help in place of the panes', () => {
    const f = plain(render(dashboard(80, 24, { showHelp: true })).lastFrame());
    expect(f).toContain('pause / resume training');
    expect(f).not.toContain('loss (log)');
  });

  /** What the dashboard shows for each kind of event (a kind missing here is a compile error). */
  const SHOWN: { [K in EventKind]: string } = {
    'run-start': 'resumed from step 10',
    dataset: 'dataset: 4 samples, d=64, cycle',
    'train-step': 'step 1/20',
    'train-end': 'training stopped (diverged), loss NaN',
    recall: 'recall: cycle after 310 it (period 4), 3/4 matched',
    attractors: 'attractors: 1/2 certified',
    spike: 'loss spike ×Infinity',
    'attractor-monitor': 'attractor monitor (cadence): 1/2 attractors',
    artifact: 'wrote checkpoint: NaN',
    log: '     3 NaN',
    'run-end': 'run failed in 1.3 s',
    stability: 'λ_max(K) 2.34e+1; ratio n/a (adam)',
    margins: 'margins @5',
    identity: 'probe cnn depth 2 → identity (distance to identity 0.12, to constant 0.95), diverged after 30 steps, loss NaN',
    recovery: 'recovery: worst mask 0.3 → 50% (1-NN 100%)',
    spurious: 'spurious attractors: 1 (0/1 certified)',
    basins: 'basins (autoencode, 2 points, grid 2×2): #0 25%, #1 25%, none 25%, diverged NaN%',
    control: 'paused',
    progress: 'decoding NaN.mp4: 120/400 frames (30%), 3.2 s',
    preview: '≈ frame 2 (Infinity dB)',
    live: 'stream NaN: dropped, reconnecting (gap 2)',
    'live-probe': 'recallable now: 4/4 in order, Infinity dB, certified ρ 0.09',
    experiment: 'experiment digit-cycles: partly in Infinity s — NaN of 2 cycles stored',
  };

  it.each(EVENT_KINDS)('shows a %s event', (kind) => {
    const frame = (events: EngramEvent[]) => plain(renderToString(
      <Dashboard state={reduceEvents(events)} columns={160} rows={40} now={null} colorMode="256" mode="watch" showHelp={false} notice={null} />,
      { columns: 160 },
    ));
    const before = kind === 'run-start' ? [] : [runStart()];
    expect(frame(before)).not.toContain(SHOWN[kind]);
    expect(frame([...before, ONE_OF_EACH[kind]])).toContain(SHOWN[kind]);
  });
});

describe('LiveDashboard keys', () => {
  it('turns p, c, r, q and Ctrl-C into commands, ? into the help and any key out of it', async () => {
    const keys: KeyCommand[] = [];
    const r = render(<LiveDashboard state={done} now={null} mode="live" colorMode="256" notice={null} onKey={(k) => keys.push(k)} />);
    await listening(r.stdin);
    for (const [i, k] of ['p', 'c', 'r', 'w', 'q'].entries()) {
      r.stdin.write(k);
      await until(() => keys.length === i + 1);
    }
    expect(keys).toEqual(['toggle-pause', 'checkpoint', 'recall', 'record', 'quit']);
    r.stdin.write('?');
    await until(() => plain(r.lastFrame()).includes('pause / resume training'));
    r.stdin.write('p'); // closes the help, does nothing else
    await until(() => plain(r.lastFrame()).includes('loss (log)'));
    expect(keys).toHaveLength(5);
    r.stdin.write('\x03');
    await until(() => keys.length === 6);
    r.stdin.write('\x03');
    await until(() => keys.length === 7);
    expect(keys.slice(5)).toEqual(['quit', 'force-quit']);
    r.unmount();
  });

  it('ignores the training keys when watching', async () => {
    const keys: KeyCommand[] = [];
    const r = render(<LiveDashboard state={done} now={null} mode="watch" colorMode="256" notice={null} onKey={(k) => keys.push(k)} />);
    await listening(r.stdin);
    for (const k of ['p', 'c', 'r', 'w']) r.stdin.write(k);
    expect(keys).toEqual([]); // a key is handled as it is written: these were ignored, not delayed
    r.stdin.write('q');
    await until(() => keys.length === 1);
    expect(keys).toEqual(['quit']);
    r.unmount();
  });
});

/** A terminal of a given size, for mounting the real dashboard. */
class FakeTerminal extends EventEmitter {
  isTTY = true;
  frames: string[] = [];
  constructor(public columns: number, public rows: number) {
    super();
  }
  write = (s: string) => (this.frames.push(s), true);
}
class FakeStdin extends EventEmitter {
  isTTY = true;
  data: string | null = null;
  write = (d: string) => ((this.data = d), this.emit('readable'), this.emit('data', d));
  read = () => {
    const d = this.data;
    this.data = null;
    return d;
  };
  setEncoding() {}
  setRawMode() {}
  resume() {}
  pause() {}
  ref() {}
  unref() {}
}

describe('mountDashboard', () => {
  let mounted: MountedDashboard | null = null;
  afterEach(() => mounted?.stop());

  it('sends the keys into the pipeline as a control stream and quits on q', async () => {
    const control = new Subject<ControlCommand>();
    const sent: ControlCommand[] = [];
    control.subscribe((c) => sent.push(c));
    const quits: boolean[] = [];
    const stdout = new FakeTerminal(160, 48), stdin = new FakeStdin();
    mounted = mountDashboard({
      mode: 'live', onCommand: (c) => control.next(c), onQuit: (force) => quits.push(force),
      stdout: stdout as unknown as NodeJS.WriteStream, stdin: stdin as unknown as NodeJS.ReadStream, colorMode: '256', patchConsole: false,
    });
    for (const e of fixtureRun({ steps: 50, end: false })) mounted.push(e);
    await listening(stdin);
    for (const [i, k] of ['p', 'c', 'r'].entries()) {
      stdin.write(k);
      await until(() => sent.length === i + 1);
    }
    mounted.push({ runId: 'demo-fixture', step: 50, time: 0, kind: 'control', command: 'pause' });
    stdin.write('p');
    await until(() => sent.length === 4);
    expect(sent).toEqual(['pause', 'checkpoint', 'recall', 'resume']);
    stdin.write('q');
    await until(() => quits.length === 1);
    expect(quits).toEqual([false]);
    // stopping draws the final state at once (live frames are paced by their cost, slow on a busy machine)
    mounted.stop();
    mounted = null;
    expect(plain(stdout.frames.join(''))).toContain('step 50/20000');
  });

  it('sends nothing once training is over, nor commands the pipeline does not act on', async () => {
    for (const [events, commands, expected] of [
      [fixtureRun({ steps: 50 }), undefined, 'training is over'],
      [fixtureRun({ steps: 50, end: false }), [] as ControlCommand[], 'pause is not available in this run'],
    ] as const) {
      const sent: ControlCommand[] = [];
      const stdout = new FakeTerminal(160, 48), stdin = new FakeStdin();
      mounted = mountDashboard({
        mode: 'live', onCommand: (c) => sent.push(c), onQuit: () => {}, commands,
        stdout: stdout as unknown as NodeJS.WriteStream, stdin: stdin as unknown as NodeJS.ReadStream, colorMode: '256', patchConsole: false,
      });
      for (const e of events) mounted.push(e);
      await listening(stdin);
      stdin.write('p'); // handled as it is written (the notice is set at once)
      // under CI=true Ink writes only the final frame, at unmount
      mounted.stop();
      mounted = null;
      expect(plain(stdout.frames.join(''))).toContain(expected);
      expect(sent).toEqual([]);
    }
  });

  it('sends record on w only to a run that acts on it (a live run)', async () => {
    for (const [commands, expected] of [
      [[...DEFAULT_COMMANDS, 'record', 'stop'] as ControlCommand[], ['record']],
      [undefined, []],
    ] as const) {
      const sent: ControlCommand[] = [];
      const stdout = new FakeTerminal(100, 30), stdin = new FakeStdin();
      mounted = mountDashboard({
        mode: 'live', onCommand: (c) => sent.push(c), onQuit: () => {}, commands,
        stdout: stdout as unknown as NodeJS.WriteStream, stdin: stdin as unknown as NodeJS.ReadStream, colorMode: '256', patchConsole: false,
      });
      for (const e of liveRun({ seconds: 3 })) mounted.push(e);
      await listening(stdin);
      stdin.write('w'); // handled as it is written (the notice is set at once)
      expect(sent).toEqual(expected);
      if (commands) mounted.push({ runId: 'demo-fixture', step: 300, time: 0, kind: 'artifact', what: 'video', path: 'runs/x/live-300.mp4' });
      mounted.stop();
      mounted = null;
      const text = plain(stdout.frames.join(''));
      if (commands) {
        expect(text).toContain('recorded: runs/x/live-300.mp4');
        expect(text).toContain('w record');
      } else {
        expect(text).toContain('record is not available in this run');
        expect(text).not.toContain('w record');
      }
    }
  });

  it('hands state to React at most about 30 times a second however fast events come', () => {
    // The frame pacing (setInterval, Date.now) runs on fake timers: 300 ms of virtual time with 50
    // events every 5 ms, whatever this machine's speed. (Drawing cost, measured with the real
    // performance.now, can only make frames rarer.)
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] });
    try {
      const stdout = new FakeTerminal(80, 24);
      mounted = mountDashboard({ mode: 'live', onQuit: () => {}, stdout: stdout as unknown as NodeJS.WriteStream, stdin: new FakeStdin() as unknown as NodeJS.ReadStream, patchConsole: false });
      const events = fixtureRun({ steps: 5000, end: false });
      let i = 0;
      for (let t = 0; t < 300; t += 5) {
        for (let k = 0; k < 50 && i < events.length; k++) mounted.push(events[i++]);
        vi.advanceTimersByTime(5);
      }
      expect(i).toBe(3000);
      expect(mounted.frames).toBeLessThanOrEqual(Math.ceil(300 / 33) + 2);
      expect(mounted.frames).toBeGreaterThan(0);
      mounted.stop();
      mounted = null;
    } finally {
      vi.useRealTimers();
    }
  });
});

import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { AttractorPane } from '../../tui/AttractorPane.tsx';
import { EventLog } from '../../tui/EventLog.tsx';
import { gray256, halfBlockLines, colorModeFrom } from '../../tui/half-block.ts';
import { Header } from '../../tui/Header.tsx';
import { HelpOverlay } from '../../tui/HelpOverlay.tsx';
import { DEFAULT_COMMANDS, KeyBar } from '../../tui/KeyBar.tsx';
import { LivePane } from '../../tui/LivePane.tsx';
import { LossChart } from '../../tui/LossChart.tsx';
import { MarginPane } from '../../tui/MarginPane.tsx';
import { RecallPane } from '../../tui/RecallPane.tsx';
import { SpikeList } from '../../tui/SpikeList.tsx';
import { probeAgeMs, reduceEvents, type MarginView } from '../../tui/view-state.ts';
import type { AudioPreviewEvent } from '../../events.ts';
import { fixtureRun, imagePreview, liveRun } from './fixtures.ts';

const done = reduceEvents(fixtureRun({ steps: 600 }));
const live = reduceEvents(fixtureRun({ steps: 150, end: false }));
const plain = (s: string | undefined) => (s ?? '').replace(/\x1b\[[0-9;]*m/g, '');
const lines = (s: string | undefined) => plain(s).split('\n');

describe('Header', () => {
  it('shows status, step/max, steps/s, elapsed, loss → target and an ETA', () => {
    const f = lines(render(<Header state={live} now={null} width={100} />).lastFrame());
    expect(f[0]).toMatch(/running\s+step 150\/20000\s+100 steps\/s\s+0:02\s+loss 1\.6\de-2→1e-8\s+ETA 0:\d\d \(\d+ steps\)/);
    expect(f[1]).toContain('demo-fixture · runs/x/source.mkv · cycle 48×32x32x1 · FC 2×512 (1.3M params) · wasm-blas/cpu ×2');
  });

  it('says so when the target lies past the step cap', () => {
    expect(plain(render(<Header state={{ ...live, maxSteps: 200 }} now={null} width={120} />).lastFrame())).toMatch(/ETA past the step cap \(\d+ steps\)/);
    // a loss target of 0 is never reached: no "Infinity" steps
    const never = plain(render(<Header state={{ ...live, lossTarget: 0 }} now={null} width={120} />).lastFrame());
    expect(never).toContain('ETA – (target not reachable)');
    expect(never).not.toMatch(/Infinity/);
  });

  it('says PAUSED and has no ETA once the run is over', () => {
    expect(plain(render(<Header state={{ ...live, paused: true }} now={null} width={100} />).lastFrame())).toContain('PAUSED');
    expect(plain(render(<Header state={done} now={null} width={100} />).lastFrame())).toMatch(/complete.*ETA –/);
  });
});

describe('LossChart', () => {
  it('draws the log-scale loss in braille with axis labels and marks the spike', () => {
    const f = lines(render(<LossChart series={done.series} spikes={done.spikeList} lossTarget={null} width={60} height={10} />).lastFrame());
    expect(f).toHaveLength(10);
    expect(f[0]).toMatch(/loss \(log\) steps 1…600/);
    expect(f[1]).toMatch(/^ +\d\.\de-\d ┤[\u2800-\u28ff]+$/); // the top label is the largest loss
    expect(f.slice(1, 9).join('')).toMatch(/[\u2801-\u28ff]/); // dots drawn
    const marks = f[9];
    expect(marks.trim()).toBe('▲');
    // the spike at step 200 of 600 sits about a third of the way along
    const x = marks.indexOf('▲') - 9;
    expect(x / (60 - 9)).toBeGreaterThan(0.25);
    expect(x / (60 - 9)).toBeLessThan(0.42);
  });

  it('waits for the first step', () => {
    expect(plain(render(<LossChart series={[]} spikes={[]} lossTarget={1e-8} width={40} height={6} />).lastFrame())).toContain('waiting for the first training step');
  });
});

describe('SpikeList', () => {
  it('lists spikes newest first with height and duration', () => {
    const spikes = [...done.spikeList, { onsetStep: 480, peakStep: 481, height: 4.2, duration: null, nonfinite: false }];
    const f = lines(render(<SpikeList spikes={spikes} width={30} height={5} />).lastFrame());
    expect(f[0]).toBe('spikes 2');
    expect(f[1]).toBe('@480 ×4.2 ongoing');
    expect(f[2]).toBe('@200 ×30.0 12 st');
  });
});

describe('AttractorPane', () => {
  it('shows x/n certified, a ρ histogram and the worst memories first', () => {
    const f = lines(render(<AttractorPane attractors={done.attractors} width={40} height={6} />).lastFrame());
    expect(f[0]).toMatch(/attractors 2\/3 reduced/);
    expect(f[1]).toMatch(/^ρ [ ▁▂▃▄▅▆▇█]+ 0…1\.5$/);
    expect(f[2]).toContain('│1');
    expect(f[3]).toBe('✗ ρ 1.070 sample 9');
    expect(f[4]).toBe('✓ ρ 0.910 sample 7');
  });

  it('says when nothing is certified yet or why it was skipped', () => {
    expect(plain(render(<AttractorPane attractors={null} width={30} height={4} />).lastFrame())).toContain('after training');
    const skipped = { ...done.attractors!, skipped: 'd too large' };
    expect(plain(render(<AttractorPane attractors={skipped} width={30} height={4} />).lastFrame())).toContain('not certified: d too large');
  });
});

describe('MarginPane', () => {
  it('shows min/median margin, the share positive and a sparkline per token', () => {
    const m: MarginView = { step: 50, min: -0.125, median: 0.5, fractionPositive: 0.75, tokens: [
      { label: 'cat', series: [-1, -0.5, 0, 0.5, 1] },
      { label: 'dog', series: [1, 0.5, 0, -0.5, -1] },
    ] };
    const f = lines(render(<MarginPane margins={m} width={30} height={5} />).lastFrame());
    expect(f[0]).toBe('margins @50');
    expect(f[1]).toBe('min -0.125 med 0.500 pos 75%');
    expect(f[2]).toBe('cat ▁▃▅▆█');
    expect(f[3]).toBe('dog █▆▅▃▁');
  });
});

describe('RecallPane', () => {
  it('draws the preview with half blocks, 2 pixel rows a line, in the 256-colour gray ramp', () => {
    const out = render(<RecallPane recall={done.recall} preview={imagePreview(600, 16)} colorMode="256" width={30} height={12} />).lastFrame()!;
    const f = lines(out);
    expect(f[0]).toBe('recall cycle @600');
    expect(f[1]).toBe('47/48 · 38.5 dB · period 48');
    const picture = f.filter((l) => l.includes('▀'));
    expect(picture).toHaveLength(8); // 16×16 scaled by 1 (2 would not fit 9 lines), 16 rows → 8 lines
    expect(picture[0]).toBe('▀'.repeat(16));
    expect(out).toContain(`\x1b[38;5;${gray256(255)}m`); // white disc
    expect(out).toContain(`\x1b[48;5;${gray256(0)}m`);
    expect(f.find((l) => l.startsWith('≈'))).toBe('≈ frame 3 (41.2 dB)');
  });

  it('uses truecolor escapes when the terminal has them', () => {
    expect(colorModeFrom({ COLORTERM: 'truecolor' })).toBe('truecolor');
    expect(colorModeFrom({ COLORTERM: '24bit' })).toBe('truecolor');
    expect(colorModeFrom({})).toBe('256');
    // one red pixel over one blue one: a single cell, red foreground on blue background
    const l = halfBlockLines({ width: 1, height: 2, channels: 3, data: Uint8Array.of(255, 0, 0, 0, 0, 255) }, 1, 1, 'truecolor');
    expect(l).toEqual(['\x1b[38;2;255;0;0m\x1b[48;2;0;0;255m▀\x1b[0m']);
  });

  it('shows a waveform strip and the correlation for audio', () => {
    const waveform: [number, number][] = Array.from({ length: 64 }, (_, i) => [-Math.abs(Math.sin(i / 5)), Math.abs(Math.sin(i / 5))]);
    const { pixels: _, ...rest } = imagePreview(600);
    const p: AudioPreviewEvent = { ...rest, media: 'audio', width: 64, height: 1, channels: 1, waveform, correlation: 0.9876, frame: 2 };
    const f = lines(render(<RecallPane recall={done.recall} preview={p} colorMode="256" width={32} height={8} />).lastFrame());
    expect(f.slice(2, 6).join('')).toMatch(/[\u2801-\u28ff]/);
    expect(f.find((l) => l.startsWith('corr'))).toBe('corr 0.988 with chunk 2');
  });

  it('invites a recall before there is one', () => {
    expect(plain(render(<RecallPane recall={null} preview={null} colorMode="256" width={30} height={6} />).lastFrame())).toContain('press r to recall now');
  });
});

describe('EventLog, KeyBar, HelpOverlay', () => {
  it('shows the newest lines with their step', () => {
    const f = lines(render(<EventLog lines={done.log} width={70} height={3} />).lastFrame());
    expect(f).toHaveLength(3);
    expect(f[2]).toBe('   600 run complete in 6.5 s');
  });

  it('lists the keys, and fewer when watching', () => {
    expect(plain(render(<KeyBar mode="live" paused={true} notice="paused" width={80} />).lastFrame())).toBe(' p resume  c checkpoint  r recall  q quit  ? help  paused');
    expect(plain(render(<KeyBar mode="watch" paused={false} notice={null} width={80} />).lastFrame())).toBe(' q stop watching  ? help');
    const help = plain(render(<HelpOverlay mode="live" width={70} height={12} />).lastFrame());
    for (const k of ['pause / resume', 'checkpoint now', 'recall now', 'quit: checkpoint', 'second Ctrl-C']) expect(help).toContain(k);
    expect(plain(render(<HelpOverlay mode="watch" width={70} height={12} />).lastFrame())).not.toContain('pause / resume');
  });

  it('shows w record only to a run that acts on record (a live run), and never when watching', () => {
    const recording = [...DEFAULT_COMMANDS, 'record', 'stop'] as const;
    expect(DEFAULT_COMMANDS).not.toContain('record');
    expect(DEFAULT_COMMANDS).not.toContain('stop');
    expect(plain(render(<KeyBar mode="live" paused={false} notice={null} commands={recording} width={80} />).lastFrame()))
      .toBe(' p pause  c checkpoint  r recall  w record  q quit  ? help');
    expect(plain(render(<KeyBar mode="live" paused={false} notice={null} width={80} />).lastFrame())).not.toContain('record');
    expect(plain(render(<KeyBar mode="watch" paused={false} notice={null} commands={recording} width={80} />).lastFrame())).toBe(' q stop watching  ? help');
    expect(plain(render(<HelpOverlay mode="live" commands={recording} width={90} height={12} />).lastFrame())).toContain('write a recording now');
    expect(plain(render(<HelpOverlay mode="live" width={90} height={12} />).lastFrame())).not.toContain('write a recording');
    expect(plain(render(<HelpOverlay mode="watch" commands={recording} width={90} height={12} />).lastFrame())).not.toContain('write a recording');
  });
});

describe('LivePane', () => {
  const v = reduceEvents(liveRun({ seconds: 42 }));
  const now = v.lastTime! + 400;
  const pane = (state = v, width = 48, height = 5) =>
    lines(render(<LivePane live={state.live!} probe={state.probe} probeAgeMs={probeAgeMs(state, now)} width={width} height={height} />).lastFrame());

  it('shows the stream, the memory and recallable now in five lines', () => {
    const f = pane();
    expect(f).toHaveLength(5);
    expect(f[0]).toBe('live connected 1 gap 0:42 · window 48 · lavfi:t…'); // the source cut to fit
    expect(f[1]).toBe('10.0 fps in · 3.0 admitted · 70% dropped');
    expect(f[2]).toBe('48 stored · frames 362–409 · 33.3 steps/frame');
    expect(f[3]).toBe('recallable now ✓ 48/48 in order · 131.2 dB');
    // probed at 40 s, the newest event at 42 s, the clock 0.4 s later; 8 probes, the last 3 recallable
    expect(f[4]).toMatch(/^certified ρ 0\.09 · 2 s ago [▁-█]{8}$/);
    expect(f[4].endsWith('███')).toBe(true);
    expect(Math.max(...f.map((l) => l.length))).toBeLessThanOrEqual(48);
  });

  it('says a cycle where it fits, several cycles first, and a gap while reconnecting', () => {
    expect(pane(v, 60)[2]).toBe('48 stored · frames 362–409 · 33.3 steps/frame · 1 cycle');
    const last = v.live!.last!;
    const segs = { ...v, live: { ...v.live!, last: { ...last, sequences: 3, stored: 144, span: [266, 409] as [number, number] } } };
    expect(pane(segs, 60)[2]).toBe('3 cycles · 144 stored · frames 266–409 · 33.3 steps/frame');
    const gap = { ...v, live: { ...v.live!, last: { ...last, state: 'reconnecting' as const, gaps: 2 } } };
    expect(pane(gap)[0]).toMatch(/^live reconnecting \(gap 2\) 0:42/);
  });

  it('adds the rates over time and the probe details when taller', () => {
    const f = pane(v, 60, 8);
    expect(f).toHaveLength(8);
    expect(f[2]).toMatch(/^in {3}[▁-█]{42}$/); // one column per second so far
    expect(f[2][5 + 29]).toBe('▁'); // the stream was down in its 30th second
    expect(f[3]).toMatch(/^drop [▁-█]{42}$/);
    expect(f[7]).toBe('exact · worst 118.4 dB · 3/8 probes recallable · 240 ms');
  });

  it('before the first frame and the first probe: connecting, and when the first probe comes', () => {
    const f = pane(reduceEvents(liveRun({ seconds: 0 })));
    expect(f[0]).toBe('live connecting… · window 48');
    expect(f[1]).toBe('waiting for the first frame');
    expect(f[2]).toBe('memory empty');
    expect(f[3]).toBe('recallable now: first probe within 5 s');
  });

  it('a probe that failed: not recallable, out of order, not certified', () => {
    const early = reduceEvents(liveRun({ seconds: 6 }));
    const f = lines(render(<LivePane live={early.live!} probe={early.probe} probeAgeMs={probeAgeMs(early, null)} width={48} height={5} />).lastFrame());
    expect(f[3]).toBe('recallable now ✗ 6/12 out of order · 24.5 dB');
    expect(f[4]).toMatch(/^not certified ρ 1\.4 · 1 s ago/);
  });
});

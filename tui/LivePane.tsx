import { Box, Text } from 'ink';
import type { LiveConfig, LiveEvent } from '../events.ts';
import { sparkline } from './braille.ts';
import { duration, rhoShort } from './units.ts';
import { frameSpan, type LiveView, type ProbeView } from './view-state.ts';

export interface LivePaneProps {
  readonly live: LiveView;
  readonly probe: ProbeView | null;
  /** Age of the newest probe, ms (tui/view-state.ts probeAgeMs: the view's clock). */
  readonly probeAgeMs: number | null;
  readonly width: number;
  readonly height: number;
}

const STATE_COLOR: Record<LiveEvent['state'], string> = { connecting: 'gray', connected: 'green', reconnecting: 'yellow', ended: 'cyan' };

/** How the memory keeps the stream: "window 48", "segments 48×4", "grow ≤48". */
export function liveMode(c: LiveConfig): string {
  return c.mode === 'window' ? `window ${c.size}` : c.mode === 'segments' ? `segments ${c.size}×${c.capacity ?? '∞'}` : `grow ≤${c.size}`;
}

const fps = (x: number) => (Number.isFinite(x) ? x.toFixed(x >= 100 ? 0 : 1) : String(x));
const pct = (f: number) => (Number.isFinite(f) ? `${Math.round(100 * f)}%` : `${f}%`);
const ago = (ms: number | null) => (ms === null ? '' : ms < 1000 ? 'just now' : ms < 120_000 ? `${Math.round(ms / 1000)} s ago` : `${duration(ms)} ago`);

/**
 * A live run (memorize --live): the stream (state, rates in, admitted and dropped), the memory
 * (frames stored and their span in the stream, trainer steps per frame) and recallable now (the
 * newest probe from noise: coverage, order, PSNR, certificate, age, and coverage over time).
 * Five lines; a taller pane adds the rates' sparklines and the probe's details.
 */
export function LivePane({ live, probe, probeAgeMs, width, height }: LivePaneProps) {
  const e = live.last;
  const state = e?.state ?? 'connecting';
  const stateText = state === 'reconnecting' ? `reconnecting (gap ${e?.gaps ?? 0})` : state === 'connecting' ? 'connecting…' : state;
  const title = (
    <Text key="title" wrap="truncate">
      <Text bold>live</Text> <Text color={STATE_COLOR[state]} bold>{stateText}</Text>
      {e && state !== 'reconnecting' && e.gaps > 0 ? <Text color="yellow"> {e.gaps} gap{e.gaps === 1 ? '' : 's'}</Text> : null}
      <Text dimColor>
        {e ? ` ${duration(e.streamSeconds * 1000)}` : ''}{live.config ? ` · ${liveMode(live.config)}` : ''}{e ? ` · ${e.source}` : ''}
      </Text>
    </Text>
  );
  const rates = e ? (
    <Text key="rates" wrap="truncate">
      <Text bold>{fps(e.arrivalFps)}</Text> fps in · <Text bold>{fps(e.admitFps)}</Text> admitted ·{' '}
      <Text color={e.dropRate > 0.5 ? 'yellow' : undefined}>{pct(e.dropRate)} dropped</Text>
    </Text>
  ) : (
    <Text key="rates" dimColor wrap="truncate">waiting for the first frame</Text>
  );
  const spark = Math.max(4, width - 6);
  const inSpark = (
    <Text key="in" wrap="truncate">
      <Text dimColor>in   </Text><Text color="cyan">{sparkline(live.arrivalFps, spark, 0)}</Text>
    </Text>
  );
  const dropSpark = (
    <Text key="drop" wrap="truncate">
      <Text dimColor>drop </Text><Text color="yellow">{sparkline(live.dropRate, spark, 0, 1)}</Text>
    </Text>
  );
  // several cycles (segments) lead the line; a single one is said only where it fits
  const memoryText = e ? `${e.stored} stored · ${frameSpan(e.span)}${e.stepsPerFrame !== null ? ` · ${fps(e.stepsPerFrame)} steps/frame` : ''}` : '';
  const oneCycle = e && e.sequences <= 1 && memoryText.length + 10 <= width ? ` · ${e.sequences} cycle` : '';
  const memory = e ? (
    <Text key="memory" wrap="truncate">
      {e.sequences > 1 ? `${e.sequences} cycles · ` : ''}<Text bold>{e.stored}</Text>{memoryText.slice(String(e.stored).length)}{oneCycle}
    </Text>
  ) : (
    <Text key="memory" dimColor wrap="truncate">memory empty</Text>
  );
  const p = probe?.last;
  const recall = p ? (
    <Text key="recall" wrap="truncate">
      recallable now <Text color={p.recallable ? 'green' : 'yellow'} bold>{p.recallable ? '✓' : '✗'} {p.coverage}/{p.of}</Text>
      {p.inOrder === null ? '' : p.inOrder ? ' in order' : <Text color="yellow"> out of order</Text>} · {p.meanPsnr.toFixed(1)} dB
    </Text>
  ) : (
    <Text key="recall" dimColor wrap="truncate">
      recallable now: {live.config?.probeSeconds === 0 ? 'probe off' : `first probe${live.config ? ` within ${live.config.probeSeconds} s` : ''}`}
    </Text>
  );
  const certText = p ? (p.certified === null ? 'ρ not checked' : `${p.certified ? 'certified' : 'not certified'}${p.rho !== null ? ` ρ ${rhoShort(p.rho)}` : ''}`) : '';
  const ageText = ago(probeAgeMs);
  const certWidth = certText.length + (ageText ? ageText.length + 3 : 0);
  const cert = p ? (
    <Text key="cert" wrap="truncate">
      <Text color={p.certified === false ? 'red' : p.certified ? 'green' : undefined}>{certText}</Text>
      <Text dimColor>{ageText ? ` · ${ageText}` : ''}</Text>
      {width - certWidth - 1 >= 4 ? <Text color={p.recallable ? 'green' : 'yellow'}> {sparkline(probe!.coverage, width - certWidth - 1, 0, 1)}</Text> : null}
    </Text>
  ) : null;
  const detail = p ? (
    <Text key="detail" dimColor wrap="truncate">
      {p.outcome} · worst {p.worstPsnr.toFixed(1)} dB · {probe!.recallableProbes}/{probe!.probes} probes recallable · {Math.round(p.ms)} ms
    </Text>
  ) : null;
  const rows = (height >= 8 ? [title, rates, inSpark, dropSpark, memory, recall, cert, detail] : [title, rates, memory, recall, cert]).filter((x) => x !== null);
  return (
    <Box flexDirection="column" width={width} height={height}>
      {rows.slice(0, Math.max(1, height))}
    </Box>
  );
}

import { Box, Text } from 'ink';
import { brailleRanges, columns, type DotRange } from './braille.ts';
import { sci } from './units.ts';
import type { LossPoint, SpikeView } from './view-state.ts';

export interface LossChartProps {
  readonly series: readonly LossPoint[];
  readonly spikes: readonly SpikeView[];
  readonly lossTarget: number | null;
  /** Whole pane, including the axis labels, title and the spike marks line. */
  readonly width: number;
  readonly height: number;
}

const GUTTER = 9;

/**
 * The run's loss on a log scale in braille (each dot column spans the min–max of its steps), with
 * ▲ under the steps where a spike began (✖ for a non-finite loss).
 */
export function LossChart({ series, spikes, lossTarget, width, height }: LossChartProps) {
  const cols = Math.max(4, width - GUTTER), rows = Math.max(2, height - 2);
  const finite = series.flatMap((p) => [p.lo, p.hi]).filter((x) => x > 0 && Number.isFinite(x));
  if (finite.length === 0) {
    return (
      <Box flexDirection="column" width={width} height={height}>
        <Text bold>loss (log)</Text>
        <Text dimColor>waiting for the first training step…</Text>
      </Box>
    );
  }
  let ymin = Math.log10(Math.min(...finite)), ymax = Math.log10(Math.max(...finite));
  if (lossTarget !== null && lossTarget > 0 && Math.log10(lossTarget) > ymin - 1) ymin = Math.min(ymin, Math.log10(lossTarget));
  if (ymax - ymin < 0.5) (ymax += 0.25), (ymin -= 0.25);
  const log = (x: number) => (x > 0 && Number.isFinite(x) ? Math.log10(x) : Number.NaN);
  const dots = cols * 2;
  const ranges: DotRange[] = columns(series.length, Math.min(dots, series.length * Math.max(1, Math.floor(dots / series.length))), (a, b) => {
    let lo = Infinity, hi = -Infinity;
    for (let i = Math.max(0, a - 1); i < b; i++) {
      // include the previous point's last value so the line is continuous
      const p = series[i];
      const l = i < a ? log(p.last) : log(p.lo), h = i < a ? log(p.last) : log(p.hi);
      if (Number.isFinite(l)) lo = Math.min(lo, l);
      if (Number.isFinite(h)) hi = Math.max(hi, h);
    }
    return { lo, hi };
  });
  const lines = brailleRanges(ranges, cols, rows, ymin, ymax);
  const used = ranges.length;
  const marks = Array<string>(cols).fill(' ');
  const first = series[0].step - series[0].count + 1, last = series[series.length - 1].step;
  for (const sp of spikes) {
    if (sp.onsetStep < first || sp.onsetStep > last) continue;
    const idx = series.findIndex((p) => p.step >= sp.onsetStep);
    const x = Math.floor(((idx + 0.5) / series.length) * used / 2);
    marks[Math.min(cols - 1, x)] = sp.nonfinite ? '✖' : '▲';
  }
  const label = (i: number) => (i === 0 ? sci(10 ** ymax, 1) : i === rows - 1 ? sci(10 ** ymin, 1) : i === Math.floor(rows / 2) ? sci(10 ** ((ymax + ymin) / 2), 1) : '');
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text bold wrap="truncate">loss (log) <Text dimColor>steps {first}…{last}</Text></Text>
      {lines.map((l, i) => (
        <Text key={i} wrap="truncate">
          <Text dimColor>{label(i).padStart(GUTTER - 2)} ┤</Text>
          <Text color="green">{l}</Text>
        </Text>
      ))}
      <Text wrap="truncate">{' '.repeat(GUTTER)}<Text color="red">{marks.join('')}</Text></Text>
    </Box>
  );
}

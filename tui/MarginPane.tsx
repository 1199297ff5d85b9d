import { Box, Text } from 'ink';
import { sparkline } from './braille.ts';
import type { MarginView } from './view-state.ts';

export interface MarginPaneProps {
  readonly margins: MarginView;
  readonly width: number;
  readonly height: number;
}

/** Per-token margins (engram assoc): min, median, share positive, and one sparkline per token. */
export function MarginPane({ margins: m, width, height }: MarginPaneProps) {
  const labelWidth = Math.min(8, Math.max(...m.tokens.map((t) => t.label.length), 1));
  const tokens = m.tokens.slice(0, Math.max(0, height - 2));
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text bold wrap="truncate">margins <Text dimColor>@{m.step}</Text></Text>
      <Text wrap="truncate">
        min <Text color={m.min > 0 ? 'green' : 'red'}>{m.min.toFixed(3)}</Text> med {m.median.toFixed(3)} pos{' '}
        <Text color={m.fractionPositive === 1 ? 'green' : 'yellow'}>{(m.fractionPositive * 100).toFixed(0)}%</Text>
      </Text>
      {tokens.map((t, i) => (
        <Text key={i} wrap="truncate">
          {t.label.slice(0, labelWidth).padEnd(labelWidth)} <Text color={(t.series[t.series.length - 1] ?? 0) > 0 ? 'green' : 'red'}>{sparkline(t.series, Math.max(1, width - labelWidth - 2))}</Text>
        </Text>
      ))}
    </Box>
  );
}

import { Box, Text } from 'ink';
import type { AttractorEvent } from '../events.ts';
import { bars } from './braille.ts';
import { rhoHistogram } from './view-state.ts';

export interface AttractorPaneProps {
  readonly attractors: AttractorEvent | null;
  readonly width: number;
  readonly height: number;
}

/** Stored memories certified as attractors (ρ < 1), a histogram of ρ with the ρ = 1 boundary, the worst ones. */
export function AttractorPane({ attractors: a, width, height }: AttractorPaneProps) {
  if (!a) {
    return (
      <Box flexDirection="column" width={width} height={height}>
        <Text bold>attractors</Text>
        <Text dimColor>after training</Text>
      </Box>
    );
  }
  if (a.skipped) {
    return (
      <Box flexDirection="column" width={width} height={height}>
        <Text bold>attractors</Text>
        <Text color="yellow" wrap="wrap">not certified: {a.skipped}</Text>
      </Box>
    );
  }
  const bins = Math.max(4, Math.min(width - 10, 24));
  const { counts, max } = rhoHistogram(a, bins);
  const one = Math.min(bins - 1, Math.floor((1 / max) * bins));
  const worst = [...a.items].sort((x, y) => y.rho - x.rho).slice(0, Math.max(0, height - 3));
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text bold wrap="truncate">
        attractors <Text color={a.attractors === a.stored ? 'green' : 'yellow'}>{a.attractors}/{a.stored}</Text> <Text dimColor>{a.method}</Text>
      </Text>
      <Text wrap="truncate">ρ <Text color="cyan">{bars(counts)}</Text> <Text dimColor>0…{max.toFixed(1)}</Text></Text>
      <Text wrap="truncate" dimColor>{'  ' + ' '.repeat(one)}│1</Text>
      {worst.map((i, k) => (
        <Text key={k} wrap="truncate" color={i.attractor ? undefined : 'red'}>
          {i.attractor ? '✓' : '✗'} ρ {i.rho.toFixed(3)} {i.what}
        </Text>
      ))}
    </Box>
  );
}

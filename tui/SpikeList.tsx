import { Box, Text } from 'ink';
import type { SpikeView } from './view-state.ts';

export interface SpikeListProps {
  readonly spikes: readonly SpikeView[];
  readonly width: number;
  readonly height: number;
}

/** The most recent spikes, newest first: onset step, height over the baseline, duration. */
export function SpikeList({ spikes, width, height }: SpikeListProps) {
  const shown = [...spikes].reverse().slice(0, Math.max(0, height - 1));
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text bold wrap="truncate">spikes <Text dimColor>{spikes.length}</Text></Text>
      {shown.length === 0 ? <Text dimColor>none</Text> : null}
      {shown.map((s, i) => (
        <Text key={i} wrap="truncate" color={s.nonfinite ? 'red' : s.duration === null ? 'yellow' : undefined}>
          {s.nonfinite ? `@${s.onsetStep} non-finite` : `@${s.onsetStep} ×${s.height.toFixed(1)} ${s.duration === null ? 'ongoing' : `${s.duration} st`}`}
        </Text>
      ))}
    </Box>
  );
}

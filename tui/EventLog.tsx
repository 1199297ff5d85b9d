import { Box, Text } from 'ink';
import type { LogLine } from './view-state.ts';

export interface EventLogProps {
  readonly lines: readonly LogLine[];
  readonly width: number;
  readonly height: number;
}

const COLOR = { info: undefined, warn: 'yellow', error: 'red' } as const;

/** The newest `height` lines of the run's event log (a bounded list: the dashboard has a fixed height). */
export function EventLog({ lines, width, height }: EventLogProps) {
  const shown = lines.slice(-height);
  return (
    <Box flexDirection="column" width={width} height={height}>
      {shown.map((l, i) => (
        <Text key={i} wrap="truncate" color={COLOR[l.level]}>
          <Text dimColor>{String(l.step).padStart(6)} </Text>{l.text}
        </Text>
      ))}
    </Box>
  );
}

import { Box, Text } from 'ink';

export interface HelpOverlayProps {
  readonly mode: 'live' | 'watch';
  readonly width: number;
  readonly height: number;
}

const KEYS: [string, string, boolean][] = [
  ['p', 'pause / resume training', true],
  ['c', 'checkpoint now', true],
  ['r', 'recall now (from noise, on the current weights)', true],
  ['q', 'quit: checkpoint, flush events.jsonl, exit 0', false],
  ['Ctrl-C', 'like q; a second Ctrl-C forces the exit', false],
  ['?', 'this help (any key closes it)', false],
];

export function HelpOverlay({ mode, width, height }: HelpOverlayProps) {
  return (
    <Box flexDirection="column" width={width} height={height} borderStyle="round" borderColor="cyan" paddingX={1}>
      <Text bold>keys</Text>
      {KEYS.filter(([, , live]) => mode === 'live' || !live).map(([k, what]) => (
        <Text key={k} wrap="truncate"><Text bold color="cyan">{k.padEnd(7)}</Text>{what}</Text>
      ))}
      {mode === 'watch' ? <Text dimColor wrap="truncate">watching events.jsonl: read-only, q stops watching (the run goes on)</Text> : null}
      <Text dimColor wrap="truncate">the loss chart is log-scale; ▲ marks a spike's onset, ✖ a non-finite loss</Text>
    </Box>
  );
}

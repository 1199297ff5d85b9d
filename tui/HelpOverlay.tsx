import { Box, Text } from 'ink';
import type { ControlCommand } from '../events.ts';
import { DEFAULT_COMMANDS } from './KeyBar.tsx';

export interface HelpOverlayProps {
  readonly mode: 'live' | 'watch';
  /** The commands the run acts on: w is listed only when record is one. */
  readonly commands?: readonly ControlCommand[];
  readonly width: number;
  readonly height: number;
}

/** Key, what it does, and the command it needs (null: always there). */
const KEYS: [string, string, ControlCommand | null][] = [
  ['p', 'pause / resume training', 'pause'],
  ['c', 'checkpoint now', 'checkpoint'],
  ['r', 'recall now (from noise, on the current weights)', 'recall'],
  ['w', 'write a recording now: the current memory, recalled from noise, to a file', 'record'],
  ['q', 'quit: checkpoint, flush events.jsonl, exit 0', null],
  ['Ctrl-C', 'like q; a second Ctrl-C forces the exit', null],
  ['?', 'this help (any key closes it)', null],
];

export function HelpOverlay({ mode, commands = DEFAULT_COMMANDS, width, height }: HelpOverlayProps) {
  return (
    <Box flexDirection="column" width={width} height={height} borderStyle="round" borderColor="cyan" paddingX={1}>
      <Text bold>keys</Text>
      {KEYS.filter(([, , c]) => c === null || (mode === 'live' && (c !== 'record' || commands.includes(c)))).map(([k, what]) => (
        <Text key={k} wrap="truncate"><Text bold color="cyan">{k.padEnd(7)}</Text>{what}</Text>
      ))}
      {mode === 'watch' ? <Text dimColor wrap="truncate">watching events.jsonl: read-only, q stops watching (the run goes on)</Text> : null}
      <Text dimColor wrap="truncate">the loss chart is log-scale; ▲ marks a spike's onset, ✖ a non-finite loss</Text>
    </Box>
  );
}

import { Text } from 'ink';
import type { ControlCommand } from '../events.ts';

/** The commands a run acts on unless it says otherwise: not record or stop, which only a live run (memorize --live) has. */
export const DEFAULT_COMMANDS: readonly ControlCommand[] = ['pause', 'resume', 'checkpoint', 'recall'];

export interface KeyBarProps {
  readonly mode: 'live' | 'watch';
  readonly paused: boolean;
  /** The last thing a key did, e.g. "checkpoint requested". */
  readonly notice: string | null;
  /** The commands the run acts on: w record is shown only when it is one. */
  readonly commands?: readonly ControlCommand[];
  readonly width: number;
}

export function KeyBar({ mode, paused, notice, commands = DEFAULT_COMMANDS, width }: KeyBarProps) {
  const keys = mode === 'live'
    ? `p ${paused ? 'resume' : 'pause'}  c checkpoint  r recall  ${commands.includes('record') ? 'w record  ' : ''}q quit  ? help`
    : 'q stop watching  ? help';
  return (
    <Text wrap="truncate">
      <Text inverse> {keys.slice(0, Math.max(0, width - 2))} </Text>
      {notice ? <Text color="yellow"> {notice}</Text> : null}
    </Text>
  );
}

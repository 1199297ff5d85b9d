import { Text } from 'ink';

export interface KeyBarProps {
  readonly mode: 'live' | 'watch';
  readonly paused: boolean;
  /** The last thing a key did, e.g. "checkpoint requested". */
  readonly notice: string | null;
  readonly width: number;
}

export function KeyBar({ mode, paused, notice, width }: KeyBarProps) {
  const keys = mode === 'live' ? `p ${paused ? 'resume' : 'pause'}  c checkpoint  r recall  q quit  ? help` : 'q stop watching  ? help';
  return (
    <Text wrap="truncate">
      <Text inverse> {keys.slice(0, Math.max(0, width - 2))} </Text>
      {notice ? <Text color="yellow"> {notice}</Text> : null}
    </Text>
  );
}

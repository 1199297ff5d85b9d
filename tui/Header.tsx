import { Box, Text } from 'ink';
import { decodeLine, elapsedMs, etaToTarget, parameterCount, stepsPerSecond, type ViewState } from './view-state.ts';
import { count, duration, sci } from './units.ts';

export interface HeaderProps {
  readonly state: ViewState;
  /** Wall clock for the elapsed time of a live run (ms since the epoch); null: up to the newest event. */
  readonly now: number | null;
  readonly width: number;
}

const STATUS_COLOR: Record<ViewState['status'], string> = { idle: 'gray', running: 'green', complete: 'cyan', failed: 'red', cancelled: 'yellow' };

/** Two lines: what is running and how fast (line 1), what it is learning on what (line 2). */
export function Header({ state: s, now, width }: HeaderProps) {
  const rate = stepsPerSecond(s);
  const eta = etaToTarget(s);
  const params = parameterCount(s);
  const status = s.paused ? 'PAUSED' : s.status;
  const model = s.model ? `FC ${s.model.depth}×${s.model.width}${params !== null ? ` (${count(params)} params)` : ''}` : 'model –';
  const data = s.dataset
    ? `${s.dataset.n}×${s.dataset.height === 1 && s.dataset.channels === 1 ? `${s.dataset.width}` : `${s.dataset.width}x${s.dataset.height}x${s.dataset.channels}`}`
    : '';
  const pastCap = eta !== null && s.maxSteps !== null && s.step + eta.steps > s.maxSteps;
  // a target of 0 (train to the cap) is never reached: no count of steps to show
  const etaText = eta === null ? 'ETA –' : eta.steps === 0 ? 'at target' : !Number.isFinite(eta.steps) ? 'ETA – (target not reachable)'
    : pastCap ? `ETA past the step cap (${count(eta.steps)} steps)`
    : `ETA ${eta.seconds !== null ? duration(eta.seconds * 1000) : '–'} (${count(eta.steps)} steps)`;
  return (
    <Box flexDirection="column" width={width}>
      <Text wrap="truncate">
        <Text bold color="magenta">engram</Text> <Text color={s.paused ? 'yellow' : STATUS_COLOR[s.status]} bold>{status}</Text>
        {s.decode && s.status === 'running' ? <Text color="yellow">{'  '}{decodeLine(s.decode)}</Text> : null}
        {'  '}step <Text bold>{s.step}</Text>{s.maxSteps !== null ? `/${s.maxSteps}` : ''}
        {'  '}{rate !== null ? `${rate.toFixed(rate < 10 ? 1 : 0)} steps/s` : '– steps/s'}
        {'  '}{duration(elapsedMs(s, now))}
        {'  '}loss <Text bold>{sci(s.loss)}</Text>→{sci(s.lossTarget, 0)}  {etaText}
      </Text>
      <Text wrap="truncate" dimColor>
        {s.runId ?? '–'} · {s.input ?? '–'} · {s.objective ?? '–'} {data} · {model} · {s.backend ?? '–'}/{s.device ?? '–'}{s.threads ? ` ×${s.threads}` : ''}
      </Text>
    </Box>
  );
}

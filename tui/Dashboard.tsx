import { Box } from 'ink';
import type { ControlCommand } from '../events.ts';
import { AttractorPane } from './AttractorPane.tsx';
import { EventLog } from './EventLog.tsx';
import { fitSize, type ColorMode } from './half-block.ts';
import { Header } from './Header.tsx';
import { HelpOverlay } from './HelpOverlay.tsx';
import { DEFAULT_COMMANDS, KeyBar } from './KeyBar.tsx';
import { LivePane } from './LivePane.tsx';
import { LossChart } from './LossChart.tsx';
import { MarginPane } from './MarginPane.tsx';
import { RecallPane } from './RecallPane.tsx';
import { SpikeList } from './SpikeList.tsx';
import { probeAgeMs, type ViewState } from './view-state.ts';

export interface DashboardProps {
  readonly state: ViewState;
  /** Terminal size; the frame uses rows − 1 lines (a frame as tall as the terminal makes Ink clear the screen, which flickers). */
  readonly columns: number;
  readonly rows: number;
  /** Wall clock for a live run's elapsed time; null: up to the newest event (watching a file). */
  readonly now: number | null;
  readonly colorMode: ColorMode;
  readonly mode: 'live' | 'watch';
  readonly showHelp: boolean;
  readonly notice: string | null;
  /** The commands the run acts on (default: DEFAULT_COMMANDS); keys of optional ones (w record) are shown only when listed. */
  readonly commands?: readonly ControlCommand[];
}

export interface Layout {
  width: number;
  top: number;
  bottom: number;
  log: number;
  recallWidth: number;
}

export const MIN_COLUMNS = 60;
/** The live pane's width: at least what its lines need, at most 60. */
const LIVE_MIN = 48, LIVE_MAX = 60;
/** The attractor pane keeps at least this much beside the live pane; the spike list gives way first. */
const ATTRACTOR_MIN = 26;
export const MIN_ROWS = 16;

/** Pane sizes for a terminal: the chart and the preview grow with it, the log and the bottom row step up. */
export function layout(s: ViewState, columns: number, rows: number): Layout {
  const width = Math.max(MIN_COLUMNS, columns);
  const height = Math.max(MIN_ROWS, rows) - 1;
  const log = height >= 40 ? 8 : height >= 30 ? 6 : 4;
  const bottom = height >= 40 ? 8 : 5;
  const top = Math.max(4, height - 3 - log - bottom);
  const maxRecall = Math.floor(width * 0.4);
  const p = s.preview;
  const fitted = p && p.media === 'image' ? fitSize(p.width, p.height, maxRecall, top - 2).width : Math.floor(width * 0.3);
  const recallWidth = Math.min(maxRecall, Math.max(24, fitted));
  return { width, top, bottom, log, recallWidth };
}

/** The whole screen, a pure function of the view state and the terminal size. */
export function Dashboard({ state: s, columns, rows, now, colorMode, mode, showHelp, notice, commands = DEFAULT_COMMANDS }: DashboardProps) {
  const L = layout(s, columns, rows);
  const chartWidth = L.width - L.recallWidth - 1;
  // a live run's pane comes first in the bottom row; on a narrow terminal the spike list makes room (spikes stay marked on the chart and in the log)
  const liveWidth = s.live ? Math.min(LIVE_MAX, Math.max(LIVE_MIN, Math.floor(L.width * 0.4))) : 0;
  const spikeFits = L.width - (s.live ? liveWidth + 1 : 0) - Math.min(24, Math.floor(L.width * 0.25)) - 1 >= ATTRACTOR_MIN;
  const spikeWidth = spikeFits ? Math.min(24, Math.floor(L.width * 0.25)) : 0;
  const rest = L.width - (spikeFits ? spikeWidth + 1 : 0) - (s.live ? liveWidth + 1 : 0);
  const marginWidth = s.margins ? Math.floor(rest / 2) : 0;
  const attractorWidth = rest - (s.margins ? marginWidth + 1 : 0);
  return (
    <Box flexDirection="column" width={L.width}>
      <Header state={s} now={now} width={L.width} />
      {showHelp ? (
        <HelpOverlay mode={mode} commands={commands} width={L.width} height={L.top + L.bottom} />
      ) : (
        <>
          <Box flexDirection="row" height={L.top} overflow="hidden">
            <LossChart series={s.series} spikes={s.spikeList} lossTarget={s.lossTarget} width={chartWidth} height={L.top} />
            <Box width={1} />
            <RecallPane recall={s.recall} preview={s.preview} colorMode={colorMode} width={L.recallWidth} height={L.top} />
          </Box>
          <Box flexDirection="row" height={L.bottom} overflow="hidden">
            {s.live ? (
              <>
                <LivePane live={s.live} probe={s.probe} probeAgeMs={probeAgeMs(s, now)} width={liveWidth} height={L.bottom} />
                <Box width={1} />
              </>
            ) : null}
            {spikeFits ? (
              <>
                <SpikeList spikes={s.spikeList} width={spikeWidth} height={L.bottom} />
                <Box width={1} />
              </>
            ) : null}
            <AttractorPane attractors={s.attractors} width={attractorWidth} height={L.bottom} />
            {s.margins ? (
              <>
                <Box width={1} />
                <MarginPane margins={s.margins} width={marginWidth} height={L.bottom} />
              </>
            ) : null}
          </Box>
        </>
      )}
      <EventLog lines={s.log} width={L.width} height={L.log} />
      <KeyBar mode={mode} paused={s.paused} notice={notice} commands={commands} width={L.width} />
    </Box>
  );
}

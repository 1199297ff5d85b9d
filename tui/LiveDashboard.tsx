import { useInput, useStdin, useStdout } from 'ink';
import { useEffect, useRef, useState } from 'react';
import { Dashboard } from './Dashboard.tsx';
import type { ControlCommand } from '../events.ts';
import type { ColorMode } from './half-block.ts';
import type { ViewState } from './view-state.ts';

/** What a key asks for; the caller turns these into control commands (p toggles, so the caller tracks the intent). */
export type KeyCommand = 'toggle-pause' | 'checkpoint' | 'recall' | 'record' | 'quit' | 'force-quit';

export interface LiveDashboardProps {
  readonly state: ViewState;
  readonly now: number | null;
  readonly mode: 'live' | 'watch';
  readonly colorMode: ColorMode;
  readonly notice: string | null;
  /** The commands the run acts on (default: DEFAULT_COMMANDS), for the key bar and the help. */
  readonly commands?: readonly ControlCommand[];
  readonly onKey: (k: KeyCommand) => void;
}

/**
 * The dashboard in a terminal: follows the terminal's size (re-laid out on 'resize') and handles
 * the keys. Ctrl-C arrives here as a key (raw mode): the first one quits like q, a second forces it.
 */
export function LiveDashboard({ state, now, mode, colorMode, notice, commands, onKey }: LiveDashboardProps) {
  const { stdout } = useStdout();
  const { isRawModeSupported } = useStdin();
  const size = () => ({ columns: stdout.columns || 80, rows: stdout.rows || 24 });
  const [{ columns, rows }, setSize] = useState(size);
  const [help, setHelpState] = useState(false);
  // the key handler reads the ref: a key right after '?' may reach the handler of the previous render
  const helpShown = useRef(false);
  const setHelp = (on: boolean) => {
    helpShown.current = on;
    setHelpState(on);
  };
  const interrupts = useRef(0);
  useEffect(() => {
    const onResize = () => setSize(size());
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout]);
  useInput(
    (input, key) => {
      if (key.ctrl && input === 'c') {
        interrupts.current++;
        onKey(interrupts.current > 1 ? 'force-quit' : 'quit');
        return;
      }
      if (helpShown.current) {
        setHelp(false);
        return;
      }
      if (input === '?') setHelp(true);
      else if (input === 'q') onKey('quit');
      else if (mode === 'live' && input === 'p') onKey('toggle-pause');
      else if (mode === 'live' && input === 'c') onKey('checkpoint');
      else if (mode === 'live' && input === 'r') onKey('recall');
      else if (mode === 'live' && input === 'w') onKey('record');
    },
    { isActive: isRawModeSupported === true },
  );
  return <Dashboard state={state} columns={columns} rows={rows} now={now} colorMode={colorMode} mode={mode} showHelp={help} notice={notice} commands={commands} />;
}

import { Box, Text } from 'ink';
import type { PreviewEvent, RecallEvent } from '../events.ts';
import { brailleRanges, columns } from './braille.ts';
import { halfBlockLines, type ColorMode } from './half-block.ts';

export interface RecallPaneProps {
  readonly recall: RecallEvent | null;
  readonly preview: PreviewEvent | null;
  readonly colorMode: ColorMode;
  readonly width: number;
  readonly height: number;
}

/** The latest recall: what it converged to and how well, and the recalled frame (or waveform). */
export function RecallPane({ recall: r, preview: p, colorMode, width, height }: RecallPaneProps) {
  const body = Math.max(1, height - 2);
  const title = r ? `recall ${r.rule} @${r.step}` : 'recall';
  const stats = r
    ? `${r.framesMatched}/${r.framesTotal} · ${r.meanPsnr.toFixed(1)} dB${r.period > 1 ? ` · period ${r.period}` : ''}`
    : 'press r to recall now';
  let picture: string[] = [];
  let caption = '';
  if (p && p.media === 'image' && p.pixels && p.width > 0) {
    picture = halfBlockLines({ width: p.width, height: p.height, channels: p.channels, data: Buffer.from(p.pixels, 'base64') }, width, body, colorMode);
    caption = p.frame >= 0 ? `≈ frame ${p.frame}${p.psnr !== undefined ? ` (${p.psnr} dB)` : ''}` : '';
  } else if (p && p.media === 'audio' && p.waveform) {
    const wf = p.waveform;
    const ranges = columns(wf.length, Math.min(width * 2, Math.max(wf.length, width * 2)), (a, b) => {
      let lo = Infinity, hi = -Infinity;
      for (let i = a; i < b; i++) (lo = Math.min(lo, wf[i][0])), (hi = Math.max(hi, wf[i][1]));
      return { lo, hi };
    });
    picture = brailleRanges(ranges, width, Math.min(body, 6), -1, 1);
    caption = `corr ${p.correlation !== undefined ? p.correlation.toFixed(3) : '–'}${p.frame >= 0 ? ` with chunk ${p.frame}` : ''}`;
  }
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text bold wrap="truncate">{title}</Text>
      <Text wrap="truncate" color={r && r.framesMatched === r.framesTotal ? 'green' : undefined}>{stats}</Text>
      {picture.slice(0, body - (caption ? 1 : 0)).map((l, i) => (
        <Text key={i} color={p?.media === 'audio' ? 'cyan' : undefined}>{l}</Text>
      ))}
      {caption ? <Text dimColor wrap="truncate">{caption}</Text> : null}
    </Box>
  );
}

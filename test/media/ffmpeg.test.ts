import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { resolveFfmpeg } from '../../media/ffmpeg.ts';

describe('resolveFfmpeg', () => {
  it('finds a binary that exists', () => {
    const { path, source } = resolveFfmpeg();
    expect(existsSync(path)).toBe(true);
    expect(['FFMPEG_PATH', 'PATH', '@ffmpeg-installer/ffmpeg']).toContain(source);
  });
});

import { describe, expect, it } from 'vitest';
import { decodeWarning, detectKind, isStreamSpec, partialInputError } from '../../pipelines/inputs.ts';

describe('decodeWarning and partialInputError (input honesty, issue 9)', () => {
  const partial = { framesDecoded: 7, framesExpected: 12, expectedFrom: 'x', partial: true, problem: 'clip.mp4 is partial: 7 of 12 frames decoded (expected from x)' };

  it('a partial input warns with the counts, what is memorized and both fixes', () => {
    expect(decodeWarning('clip.mp4', partial)).toBe(
      'clip.mp4 is partial: 7 of 12 frames decoded (expected from x); memorizing only what decoded. ' +
      'For the whole clip re-export or repair the file (re-encoding a damaged file keeps only what decodes); pass --strict to refuse partial inputs');
  });

  it('--strict makes it E_INPUT_PARTIAL, with the same counts', () => {
    const e = partialInputError('clip.mp4', partial);
    expect(e.code).toBe('E_INPUT_PARTIAL');
    expect(e.message).toMatch(/^clip\.mp4 is partial: 7 of 12 frames decoded .*\(--strict refuses a partial input\); re-export or repair the file.*drop --strict/);
  });

  it('decode errors without a shortfall are a milder warning; a clean decode none', () => {
    expect(decodeWarning('c.ts', { framesDecoded: 9, partial: false, decodeErrors: ['[h264] corrupt'], problem: 'c.ts decoded with errors (9 frames decoded); ffmpeg reported: [h264] corrupt' }))
      .toMatch(/some samples may be damaged/);
    expect(decodeWarning('c.mp4', { framesDecoded: 12, framesExpected: 12, partial: false })).toBeUndefined();
  });
});

describe('detectKind', () => {
  it('a stream whose spec holds glob characters is no image glob: lavfi graphs, URLs, standard input', () => {
    expect(isStreamSpec('lavfi:movie=clip.mp4:loop=0,setpts=2*N/24/TB,fps=10')).toBe(true);
    expect(detectKind('lavfi:movie=clip.mp4:loop=0,setpts=2*N/24/TB,fps=10')).toBe('video');
    expect(detectKind('http://127.0.0.1:8080/cam?q=*')).toBe('video');
    expect(detectKind('http://host/talk.wav')).toBe('audio');
    expect(detectKind('-')).toBe('video');
    expect(isStreamSpec('shots/*.png')).toBe(false);
    expect(detectKind('shots/*.png')).toBe('images');
  });
});

import { expect, it } from 'vitest';
import { errorLines, withoutEnvironment } from './stderr.ts';

it('errors are errors, whatever the machine warns about', () => {
  const fresh = "warning: fast CPU path unavailable, using wasm: the OpenBLAS addon is not available (Cannot find module '/r/engine/native/build/Release/engram_blas.node'); to get it, …";
  const node = '(node:4242) Warning: no system fonts found: plot labels will be missing\n(Use `node --trace-warnings ...` to show where the warning was created)';
  expect(errorLines(`${fresh}\n${node}\nbackend wasm (tfjs 'wasm') on CPU; BLAS none; 1 thread(s)\n`)).toEqual([]);
  expect(errorLines(`${fresh}\nengram: E_FFMPEG: ffmpeg failed while decoding x.mp4\n`)).toEqual(['engram: E_FFMPEG: ffmpeg failed while decoding x.mp4']);
  expect(errorLines('engram: internal error: TypeError: x is undefined\n    at run (/r/cli/main.ts:10:3)\n')).toHaveLength(2);
  expect(withoutEnvironment(`${fresh}\n${node}\nwarning: x.mp4 decoded partially`)).toBe('warning: x.mp4 decoded partially');
});

/**
 * The folder-rule check (tools/folder-rules.ts, `npm run lint:deps`) catches what it is for: a
 * small tree that breaks one rule of each kind is reported file by file, naming the import and the
 * rule, and the command exits 1; the same tree without the breaches passes.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkFolderRules, formatViolation } from '../../tools/folder-rules.ts';

const root = join(import.meta.dirname, '../..');
const dirs: string[] = [];

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'engram-rules-'));
  dirs.push(dir);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const lawful = {
  'errors.ts': 'export class EngramError extends Error {}\n',
  'engine/model.ts': "import { EngramError } from '../errors.ts';\nexport type Model = { e?: EngramError };\n",
  'sources/frames.ts': "import { openSync } from 'node:fs';\nimport type { Model } from '../engine/model.ts';\nexport const open = (p: string, m?: Model) => (m, openSync(p, 'r'));\n",
  'sinks/png.ts': "import { writeFileSync } from 'node:fs';\nexport const save = (p: string) => writeFileSync(p, '');\n",
  'pipelines/job.ts': "import { open } from '../sources/frames.ts';\nimport { save } from '../sinks/png.ts';\nexport const job = () => save(String(open('x')));\n",
  'cli/main.ts': "import { job } from '../pipelines/job.ts';\njob();\n",
};

describe('tools/folder-rules.ts', () => {
  it('passes a tree that keeps the rules', async () => {
    expect(await checkFolderRules(tree(lawful))).toEqual([]);
  });

  it('names the file, the import and the rule of every breach, and exits 1', async () => {
    const dir = tree({
      ...lawful,
      'cli/main.ts': "import { job } from '../pipelines/job.ts';\nimport type { Model } from '../engine/model.ts';\nexport const m: Model = {};\njob();\n",
      'sources/tokens.ts': "import { save } from '../sinks/png.ts';\nexport const t = save;\n",
      'operators/train.ts': "import * as tf from '@tensorflow/tfjs';\nexport const t = tf;\n",
      'pipelines/plot.ts': "import { writeFileSync } from 'node:fs';\nexport const plot = () => writeFileSync('plot.png', '');\n",
    });
    const found = await checkFolderRules(dir);
    expect(found).toEqual(expect.arrayContaining([
      expect.objectContaining({ file: 'cli/main.ts', import: 'engine/model.ts', rule: 'cli-imports' }),
      expect.objectContaining({ file: 'sources/tokens.ts', import: 'sinks/png.ts', rule: 'sources-imports' }),
      expect.objectContaining({ file: 'operators/train.ts', import: '@tensorflow/tfjs', rule: 'only-engine-imports-tfjs' }),
      expect.objectContaining({ file: 'pipelines/plot.ts', import: "writeFileSync from 'node:fs'", rule: 'only-sinks-write-files' }),
    ]));
    expect(found).toHaveLength(4);
    expect(formatViolation(found.find((v) => v.file === 'cli/main.ts')!)).toMatch(/^cli\/main\.ts: imports engine\/model\.ts\n {2}breaks cli-imports: cli\/ may import pipelines\//);

    const cli = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'tools/folder-rules.ts'), dir], { encoding: 'utf8', cwd: root });
    expect(cli.status).toBe(1);
    expect(cli.stderr).toContain('pipelines/plot.ts: imports writeFileSync from \'node:fs\'\n  breaks only-sinks-write-files');
    expect(cli.stderr).toContain('4 folder-rule violations');
  });

  it('sees writes through open flags and ffmpeg outputs too', async () => {
    const dir = tree({
      ...lawful,
      'media/ffmpeg.ts': 'export const ffmpegCommand = (i: string) => ({ output: (p: string) => [i, p] });\n',
      'sources/frames.ts': "import { openSync } from 'node:fs';\nimport { ffmpegCommand } from '../media/ffmpeg.ts';\nexport const open = (p: string) => [openSync(p, 'a'), ffmpegCommand(p).output('clip.mkv')];\n",
    });
    const found = await checkFolderRules(dir);
    expect(found.map((v) => [v.file, v.kind, v.rule])).toEqual([
      ['sources/frames.ts:3', 'calls', 'only-sinks-write-files'],
      ['sources/frames.ts:3', 'calls', 'only-sinks-write-with-ffmpeg'],
    ]);
  });
});

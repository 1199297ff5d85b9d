/**
 * `engram memorize <images> --sequences K` end to end on real images (MNIST digits from the mnist
 * package): the samples split into K cycles, both stored and certified, the recall saying which one
 * came back, the settings in the run config, a resume continuing the same sequences, and the bad
 * values refused with the fix.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { exitCodeOf } from '../../cli/execute.ts';
import { main } from '../../cli/main.ts';
import { loadCheckpoint } from '../../engine/checkpoint.ts';
import type { AttractorEvent, DatasetEvent, EngramEvent, RecallEvent, RunStartEvent } from '../../events.ts';
import { recallRun } from '../../pipelines/recall-run.ts';
import { writePng } from '../../sinks/png.ts';
import { readEventLog } from '../../sources/event-log.ts';
import { digits } from '../../sources/mnist.ts';
import { tempDirs } from '../fixtures/images.ts';

const tmp = tempDirs('engram-sequences-');
let images = '';
const SMALL = ['--size', '14x14', '--width', '256', '--no-recovery', '--monitor-every', '0', '--stability-every', '0', '--quiet'];
const codeOf = (argv: string[]) => main(argv).then((c) => c, (e: unknown) => exitCodeOf(e));
const events = (run: string): EngramEvent[] => readEventLog(join(run, 'events.jsonl')).events;
const runJson = (run: string) => JSON.parse(readFileSync(join(run, 'run.json'), 'utf8')) as { status: string; config: Record<string, unknown>; summary: Record<string, unknown> };

beforeAll(() => {
  // eight handwritten digits 0…7, named so that sorting keeps their order: sequences 0→3 and 4→7
  images = join(tmp.root, 'digits');
  mkdirSync(images);
  digits([0, 1, 2, 3, 4, 5, 6, 7], 1).forEach((d, i) =>
    writePng(join(images, `digit-${i}.png`), { pixels: Uint8Array.from(d.pixels, (v) => Math.round(v * 255)), width: 28, height: 28, channels: 1 }));
});

describe('memorize --sequences', () => {
  it('stores 8 digits as two cycles of 4, certifies both, and says which one the recall came back to', async () => {
    const out = join(tmp.root, 'two');
    expect(await codeOf(['memorize', images, '--sequences', '2', ...SMALL, '--out', out])).toBe(0);
    const ev = events(out);
    const start = ev.find((e): e is RunStartEvent => e.kind === 'run-start')!;
    expect(start.config).toMatchObject({ objective: 'cycle', sequences: 2 });
    expect(ev.find((e): e is DatasetEvent => e.kind === 'dataset')).toMatchObject({ objective: 'multi-cycle', n: 8, sequenceLengths: [4, 4] });

    const rec = ev.find((e): e is RecallEvent => e.kind === 'recall' && e.step > 0 && e.outcome?.tries === 1)!;
    expect(rec.outcome).toMatchObject({ kind: 'exact', recalled: true, sequences: 2, of: 4 });
    expect([0, 1]).toContain(rec.outcome!.sequence);
    expect(rec.period).toBe(4);
    // the cycle is the recalled sequence's samples, in order
    const first = rec.outcome!.sequence! * 4;
    expect([...rec.cycle].sort()).toEqual([first, first + 1, first + 2, first + 3]);
    expect(rec.orderCorrect).toBe(true);

    // both cycles are stored (every sample has its pattern) and certified stable
    expect(rec.framesStored).toBe(8);
    const cert = ev.find((e): e is AttractorEvent => e.kind === 'attractors')!;
    expect(cert.items.slice(0, cert.stored).map((i) => [i.what, i.period, i.attractor])).toEqual([
      ['sequence 0 (4 samples)', 4, true], ['sequence 1 (4 samples)', 4, true],
    ]);
    expect(cert.attractors).toBe(2);

    const run = runJson(out);
    expect(run.status).toBe('complete');
    expect(run.summary).toMatchObject({ sequenceLengths: [4, 4], recalledSequence: rec.outcome!.sequence, certified: { attractors: 2, of: 2 } });
    // the checkpoint keeps the sequences, so recall and resume see the same two cycles
    const ck = loadCheckpoint(join(out, 'model.ckpt'));
    expect(ck.data).toMatchObject({ objective: 'multi-cycle', sequenceLengths: [4, 4] });
    expect(existsSync(join(out, 'contact.png'))).toBe(true);

    // recall from a sample of each sequence comes back to that sequence
    for (const [frame, seq] of [[1, 0], [6, 1]]) {
      const r = await recallRun({ runDir: out, from: `frame:${frame}`, sigma: 1, maxIterations: 20_000, seed: 1, out: join(tmp.root, `from-${frame}.gif`), force: false });
      expect(r.event.outcome, `from frame ${frame}`).toMatchObject({ kind: 'exact', recalled: true, sequence: seq, sequences: 2 });
    }
  }, 180_000);

  it('a resumed run goes on with the same sequences; a different --sequences is refused', async () => {
    const out = join(tmp.root, 'resume');
    // gradient steps to a loss it cannot reach, so the resume has work to do
    const train = ['--fit', 'gradient', '--lr', '1e-3', '--loss-target', '1e-30', '--checkpoint-every', '50'];
    expect(await codeOf(['memorize', images, '--sequences', '2', ...SMALL, ...train, '--max-steps', '60', '--out', out])).toBe(0);
    await expect(main(['memorize', '--resume', out, '--sequences', '4', '--quiet'])).rejects.toMatchObject({
      code: 'E_BAD_ARGUMENT', message: expect.stringMatching(/--sequences 4 \(the run has 2\) would change them/),
    });
    expect(await codeOf(['memorize', '--resume', out, '--sequences', '2', '--max-steps', '120', '--quiet'])).toBe(0);
    const ev = events(out);
    const ends = ev.filter((e) => e.kind === 'train-end').map((e) => e.step);
    expect(ends).toEqual([60, 120]);
    const cert = ev.filter((e): e is AttractorEvent => e.kind === 'attractors').at(-1)!;
    expect(cert.items.slice(0, cert.stored).map((i) => i.what)).toEqual(['sequence 0 (4 samples)', 'sequence 1 (4 samples)']);
    expect(runJson(out).summary).toMatchObject({ steps: 120, sequenceLengths: [4, 4] });
  }, 180_000);

  it('refuses values that cannot work, naming the fix', async () => {
    const no = join(tmp.root, 'none');
    await expect(main(['memorize', images, '--sequences', '0', ...SMALL, '--out', no])).rejects.toMatchObject({ code: 'E_BAD_ARGUMENT', message: "--sequences must be an integer ≥ 1 (got '0')" });
    await expect(main(['memorize', images, '--sequences', '2', '--objective', 'autoencode', ...SMALL, '--out', no])).rejects.toMatchObject({
      code: 'E_BAD_ARGUMENT', message: expect.stringMatching(/--sequences 2 stores several cycles and applies to --objective cycle/),
    });
    await expect(main(['memorize', 'lavfi:testsrc=d=1', '--frames', '5', '--sequences', '3', ...SMALL, '--out', no])).rejects.toMatchObject({
      code: 'E_BAD_ARGUMENT', message: expect.stringMatching(/--sequences 3 with --frames 5 gives sequences shorter than 2.*use --sequences 2 or fewer/),
    });
    await expect(main(['memorize', 'lavfi:testsrc', '--live', '--sequences', '2', '--out', no])).rejects.toMatchObject({ code: 'E_BAD_ARGUMENT', message: expect.stringMatching(/--segments/) });
    expect(existsSync(no)).toBe(false);
    // how many images there are is known once they are read: 8 images cannot make 5 cycles (exit 2, said in the run's log)
    const five = join(tmp.root, 'five');
    expect(await codeOf(['memorize', images, '--sequences', '5', ...SMALL, '--out', five])).toBe(2);
    const run = runJson(five) as { status: string; errorCode?: string; error?: string };
    expect(run).toMatchObject({ status: 'failed', errorCode: 'E_BAD_ARGUMENT' });
    expect(run.error).toMatch(/--sequences 5 splits the 8 samples of .* into sequences shorter than 2.*use --sequences 4 or fewer/);
  }, 120_000);
});

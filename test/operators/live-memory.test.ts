import { Subject, type Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { liveMemory, type LiveMemoryMode, type LiveMemoryOutput, type MemoryFrame } from '../../operators/live-memory.ts';
import { EngramError } from '../../errors.ts';

/** A tiny frame whose 4 values encode its index. */
const frame = (i: number): MemoryFrame => ({ index: i, data: Float32Array.of(i, i + 0.25, i + 0.5, i + 0.75) });

function setup(mode: LiveMemoryMode, minSteps: number) {
  const frames = new Subject<MemoryFrame>(), steps = new Subject<number>(), idle = new Subject<void>();
  const out: LiveMemoryOutput[] = [];
  const state = { completed: false, error: undefined as unknown };
  frames.pipe(liveMemory({ mode, minSteps, steps, idle })).subscribe({
    next: (e) => out.push(e),
    error: (e) => (state.error = e),
    complete: () => (state.completed = true),
  });
  const datasets = () => out.filter((e) => e.kind === 'dataset');
  const last = () => datasets().at(-1)!;
  const push = (...is: number[]) => is.forEach((i) => frames.next(frame(i)));
  return { frames, steps, idle, out, state, datasets, last, push };
}

/** The dataset's first value of each input row: the frame index it encodes. */
const rows = (e: LiveMemoryOutput) => {
  if (e.kind !== 'dataset') throw new Error('not a dataset');
  const { inputs, dim, n } = e.dataset;
  return Array.from({ length: n }, (_, r) => inputs[r * dim]);
};
const targetRows = (e: LiveMemoryOutput) => {
  if (e.kind !== 'dataset') throw new Error('not a dataset');
  const { targets, dim, n } = e.dataset;
  return Array.from({ length: n }, (_, r) => targets[r * dim]);
};

describe('liveMemory', () => {
  it('a frame that repeats one in memory (or the held one) by key is not taken in and is counted as repeated', () => {
    const frames = new Subject<MemoryFrame>(), steps = new Subject<number>();
    const out: LiveMemoryOutput[] = [];
    // keys: the frame index mod 3, so frames 3, 4, 5 repeat 0, 1, 2
    frames.pipe(liveMemory({ mode: { kind: 'window', size: 3 }, minSteps: 1, steps, key: (d) => String(d[0] % 3) })).subscribe((e) => out.push(e));
    [0, 1, 2].forEach((i) => frames.next(frame(i)));
    steps.next(1);
    frames.next(frame(3)); // repeats 0, in memory: not admitted
    frames.next(frame(4)); // repeats 1
    const ds = out.filter((e) => e.kind === 'dataset');
    expect(ds.map((e) => e.frames)).toEqual([[0, 1], [0, 1, 2]]);
    frames.complete();
    // nothing new came in: the last dataset stands; every frame is accounted for
    const last = out.filter((e) => e.kind === 'dataset').at(-1)!;
    expect(last.frames).toEqual([0, 1, 2]);
    expect(last.counts.arrived).toBe(3); // counts as of the last admission
    // a repeat of the held frame is a repeat too
    const f2 = new Subject<MemoryFrame>(), s2 = new Subject<number>();
    const o2: LiveMemoryOutput[] = [];
    f2.pipe(liveMemory({ mode: { kind: 'window', size: 4 }, minSteps: 5, steps: s2, key: (d) => String(d[0] % 10) })).subscribe((e) => o2.push(e));
    [0, 1, 2, 12].forEach((i) => f2.next(frame(i))); // 2 is held (gate closed after 0, 1); 12 repeats it
    s2.next(5); // opens the gate: the held 2 is admitted
    f2.next(frame(3));
    s2.next(10);
    f2.complete();
    const l2 = o2.filter((e) => e.kind === 'dataset').at(-1)!;
    expect(l2.frames).toEqual([0, 1, 2, 3]);
    expect(l2.counts).toEqual({ arrived: 5, admitted: 4, dropped: 0, stored: 4, repeated: 1 });
  });

  it('window: slides over the last `size` frames in arrival order, one cycle', () => {
    const t = setup({ kind: 'window', size: 3 }, 0);
    t.push(0);
    expect(t.out).toEqual([]); // one frame is no cycle
    t.push(1, 2, 3, 4);
    const ds = t.datasets();
    expect(ds.map((e) => e.frames)).toEqual([[0, 1], [0, 1, 2], [1, 2, 3], [2, 3, 4]]);
    const last = t.last();
    expect(last.kind === 'dataset' && last.dataset.objective).toBe('cycle');
    expect(rows(last)).toEqual([2, 3, 4]);
    expect(targetRows(last)).toEqual([3, 4, 2]); // the cyclic successor
    expect(last.counts).toEqual({ arrived: 5, admitted: 5, dropped: 0, stored: 3, repeated: 0 });
  });

  it('a trainer idle at its loss target opens the gate at once, for the held frame or the next one', () => {
    const t = setup({ kind: 'window', size: 4 }, 100);
    t.push(0, 1, 2); // 2 is held: 100 steps are asked for
    t.steps.next(3);
    t.idle.next(); // at the target after 3 steps: waiting for data
    expect(t.datasets().map((e) => e.frames)).toEqual([[0, 1], [0, 1, 2]]);
    t.push(3); // the trainer has not said it is idle since: held
    expect(t.datasets()).toHaveLength(2);
    t.idle.next();
    t.push(4); // 3 was admitted on idle; 4 waits for the next idle or 100 steps
    expect(t.datasets().map((e) => e.frames).at(-1)).toEqual([0, 1, 2, 3]);
    expect(t.last().counts).toEqual({ arrived: 4, admitted: 4, dropped: 0, stored: 4, repeated: 0 });
    t.idle.next();
    expect(t.datasets().map((e) => e.frames).at(-1)).toEqual([1, 2, 3, 4]);
  });

  it('a slow trainer: frames wait in a one-slot hold, replaced ones are dropped and counted', () => {
    const t = setup({ kind: 'window', size: 3 }, 2);
    t.push(0, 1); // admitted at once: the memory needs 2 frames
    t.push(2, 3, 4); // gate closed: 2 and 3 replaced in the hold, 4 held
    expect(t.datasets().map((e) => e.frames)).toEqual([[0, 1]]);
    t.steps.next(1);
    expect(t.datasets()).toHaveLength(1);
    t.steps.next(2); // 2 steps since the dataset: 4 is admitted
    expect(t.datasets().map((e) => e.frames)).toEqual([[0, 1], [0, 1, 4]]);
    expect(t.last().counts).toEqual({ arrived: 5, admitted: 3, dropped: 2, stored: 3, repeated: 0 });
    t.push(5); // gate closed again (counted from step 2)
    t.steps.next(3);
    expect(t.datasets()).toHaveLength(2);
    t.steps.next(4);
    expect(t.last().frames).toEqual([1, 4, 5]);
  });

  it('a frame that arrives once the steps are there is admitted at once', () => {
    const t = setup({ kind: 'window', size: 2 }, 3);
    t.push(0, 1);
    t.steps.next(3);
    t.push(2);
    expect(t.last().frames).toEqual([1, 2]);
  });

  it('10,000 frames and no steps: memory stays bounded and every frame is accounted for', () => {
    const t = setup({ kind: 'window', size: 4 }, 1);
    for (let i = 0; i < 10_000; i++) t.push(i);
    t.steps.next(1); // the held frame (the newest) is admitted
    const c = t.last().counts;
    expect(c.stored).toBeLessThanOrEqual(4);
    expect(c.arrived).toBe(10_000);
    expect(c.admitted).toBe(3);
    expect(c.dropped).toBe(c.arrived - c.admitted);
    expect(c.dropped).toBe(9_997);
    expect(t.last().frames).toEqual([0, 1, 9_999]);
    // every output's counts keep the identity (an output follows an admission, which empties the hold)
    for (const e of t.out) expect(e.counts.dropped).toBe(e.counts.arrived - e.counts.admitted);
  });

  it('10,000 frames with no steps at all: one dataset, stored ≤ size, one held', () => {
    const t = setup({ kind: 'window', size: 3 }, 5);
    for (let i = 0; i < 10_000; i++) t.push(i);
    expect(t.datasets()).toHaveLength(1);
    const frames = t.frames;
    frames.complete(); // the held frame is admitted at the end
    const c = t.last().counts;
    expect(c).toEqual({ arrived: 10_000, admitted: 3, dropped: 9_997, stored: 3, repeated: 0 });
    expect(t.last().frames).toEqual([0, 1, 9_999]);
    expect(t.state.completed).toBe(true);
  });

  it('segments: closed windows are stored as a multi-cycle; the oldest is dropped at capacity and reported', () => {
    const t = setup({ kind: 'segments', size: 2, capacity: 2 }, 0);
    t.push(0, 1); // window [0,1] closes
    expect(t.last().frames).toEqual([0, 1]);
    expect(t.last().kind === 'dataset' && (t.last() as { dataset: { objective: string } }).dataset.objective).toBe('cycle');
    const before = t.out.length;
    t.push(2); // a one-frame open window changes nothing trained
    expect(t.out.length).toBe(before);
    t.push(3);
    const two = t.last();
    expect(two.frames).toEqual([0, 1, 2, 3]);
    expect(two.kind === 'dataset' && two.dataset.objective).toBe('multi-cycle');
    expect(two.kind === 'dataset' && two.dataset.sequenceLengths).toEqual([2, 2]);
    expect(targetRows(two)).toEqual([1, 0, 3, 2]); // each window cycles on its own
    t.push(4, 5); // the third window closes: [0,1] leaves
    const cap = t.out.find((e) => e.kind === 'capacity');
    expect(cap).toMatchObject({ kind: 'capacity', droppedFrames: [0, 1] });
    expect(cap!.kind === 'capacity' && cap!.message).toMatch(/oldest.*0–1/);
    expect(t.last().frames).toEqual([2, 3, 4, 5]);
    expect(t.last().counts.stored).toBe(4);
  });

  it('segments: the open window is trained on once it has 2 frames', () => {
    const t = setup({ kind: 'segments', size: 3, capacity: 4 }, 0);
    t.push(0, 1);
    expect(t.last().frames).toEqual([0, 1]);
    t.push(2, 3, 4);
    const e = t.last();
    expect(e.frames).toEqual([0, 1, 2, 3, 4]);
    expect(e.kind === 'dataset' && e.dataset.sequenceLengths).toEqual([3, 2]);
  });

  it('grow: lengthens, reports capacity once, then keeps the last `max`', () => {
    const t = setup({ kind: 'grow', max: 3 }, 0);
    t.push(0, 1, 2);
    expect(t.last().frames).toEqual([0, 1, 2]);
    t.push(3, 4, 5);
    const caps = t.out.filter((e) => e.kind === 'capacity');
    expect(caps).toHaveLength(1);
    expect(caps[0]).toMatchObject({ droppedFrames: [0] });
    expect(caps[0].kind === 'capacity' && caps[0].message).toMatch(/capacity of 3 frames reached/);
    expect(t.last().frames).toEqual([3, 4, 5]);
    expect(rows(t.last())).toEqual([3, 4, 5]);
  });

  it('keeps frames by reference and packs the dataset with makeDataset', () => {
    const t = setup({ kind: 'window', size: 2 }, 0);
    const a = frame(7), b = frame(8);
    t.frames.next(a);
    t.frames.next(b);
    const e = t.last();
    if (e.kind !== 'dataset') throw new Error('expected a dataset');
    expect(Array.from(e.dataset.inputs)).toEqual([...a.data, ...b.data]);
    expect(e.dataset.inputs.buffer).not.toBe(a.data.buffer);
  });

  it('completion admits a held frame, then completes; errors pass through', () => {
    const t = setup({ kind: 'window', size: 3 }, 10);
    t.push(0, 1, 2);
    expect(t.datasets()).toHaveLength(1); // 2 waits in the hold
    t.frames.complete();
    expect(t.datasets()).toHaveLength(2);
    expect(t.last().frames).toEqual([0, 1, 2]);
    expect(t.last().counts).toEqual({ arrived: 3, admitted: 3, dropped: 0, stored: 3, repeated: 0 });
    expect(t.state.completed).toBe(true);

    const u = setup({ kind: 'window', size: 3 }, 0);
    u.frames.error(new Error('boom'));
    expect((u.state.error as Error).message).toBe('boom');
    const v = setup({ kind: 'window', size: 3 }, 0);
    v.steps.error(new Error('steps boom'));
    expect((v.state.error as Error).message).toBe('steps boom');
  });

  it('a frame of another size is E_INPUT_INVALID', () => {
    const t = setup({ kind: 'window', size: 3 }, 0);
    t.push(0);
    t.frames.next({ index: 1, data: new Float32Array(5) });
    expect(t.state.error).toBeInstanceOf(EngramError);
    expect((t.state.error as EngramError).code).toBe('E_INPUT_INVALID');
  });

  it('unsubscribing stops both inputs', () => {
    const frames = new Subject<MemoryFrame>(), steps = new Subject<number>();
    const s = frames.pipe(liveMemory({ mode: { kind: 'window', size: 2 }, minSteps: 1, steps })).subscribe();
    expect(frames.observed && steps.observed).toBe(true);
    s.unsubscribe();
    expect(frames.observed || steps.observed).toBe(false);
  });

  it('bad options are E_BAD_ARGUMENT naming the option, at creation', () => {
    const steps = new Subject<number>() as Observable<number>;
    const cases: [LiveMemoryMode, number, RegExp][] = [
      [{ kind: 'window', size: 1 }, 0, /mode\.size/],
      [{ kind: 'window', size: 2.5 }, 0, /mode\.size/],
      [{ kind: 'segments', size: 2, capacity: 0 }, 0, /mode\.capacity/],
      [{ kind: 'segments', size: 1, capacity: 2 }, 0, /mode\.size/],
      [{ kind: 'grow', max: 1 }, 0, /mode\.max/],
      [{ kind: 'grow', max: Number.NaN }, 0, /mode\.max/],
      [{ kind: 'window', size: 3 }, -1, /minSteps/],
      [{ kind: 'window', size: 3 }, 1.5, /minSteps/],
      [{ kind: 'tape' } as unknown as LiveMemoryMode, 0, /mode\.kind/],
    ];
    for (const [mode, minSteps, name] of cases) {
      let err: unknown;
      try {
        liveMemory({ mode, minSteps, steps });
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(mode)).toBeInstanceOf(EngramError);
      expect((err as EngramError).code).toBe('E_BAD_ARGUMENT');
      expect((err as EngramError).message).toMatch(name);
    }
  });
});

/**
 * liveMemory: Frame… → (dataset | capacity)…. What to memorize of a stream that never ends: it keeps
 * a bounded memory of frames and emits a `Dataset` for `train` (which replaces its data between
 * steps) whenever an admitted frame changes what is trained on. Pure with respect to time: no timers
 * and no clock; the trainer's progress comes in as an explicit stream of step counts.
 *
 * - Modes: `window` (the last `size` frames are one cycle), `segments` (every closed window of `size`
 *   frames is one more stored cycle, at most `capacity`; then the oldest is dropped, with a
 *   `capacity` event naming its frames; the open window is trained on too once it has 2 frames),
 *   `grow` (one cycle that lengthens up to `max` frames, then keeps the last `max`; a `capacity`
 *   event once, when the first frame leaves).
 * - Admission (backpressure): a frame is admitted once the trainer has taken `minSteps` steps since
 *   the last dataset was emitted (the step count is the latest value of `steps`, 0 before any
 *   arrives), or has said on `idle` that it waits for data (at its loss target); the first frames are admitted at once until the memory holds 2. A frame that arrives
 *   while the gate is closed waits in a one-slot hold; a newer one replaces it and the replaced one
 *   is counted as dropped. A step count that opens the gate admits the held frame. So the memory
 *   never holds more than the mode's frames, plus the held one, whatever the arrival rate.
 * - Datasets: an admission that leaves the trained sequences as they were (the very first frame; in
 *   `segments`, the first frame of a new window) emits nothing and leaves the gate open. Frames are
 *   kept by reference; `makeDataset` packs them. `frames` lists the frame indices in dataset order.
 * - End: completion of the frames admits a held frame at once (its dataset is emitted: the stream
 *   has ended, so nothing can pile up behind it), then completes. Errors of either input pass
 *   through; completion of `steps` only freezes the gate. A frame whose length differs from the
 *   first one's is an E_INPUT_INVALID error.
 *
 *   frames: -a-b-c-d-------e-|        (window size 3, minSteps 2)
 *   steps:  ---------1-2------
 *   output: ---D-------D-----(D|)     (datasets ab, abd, bde: c was replaced in the hold by d and
 *                                       dropped; d is admitted at step 2; e is held and admitted at the end)
 *
 * @example
 *   liveVideo$(url, opts).pipe(
 *     filter((e) => e.kind === 'frame'), map((e) => e.frame),
 *     liveMemory({ mode: { kind: 'window', size: 32 }, minSteps: 200, steps: stepCounts$ }))
 */
import { Observable, type OperatorFunction } from 'rxjs';
import { makeDataset, type Dataset } from '../engine/objectives.ts';
import { EngramError } from '../errors.ts';

/** What liveMemory needs of a frame: sources/video.ts's `Frame` has it (operators do not import sources/). */
export interface MemoryFrame {
  index: number;
  data: Float32Array;
}

export type LiveMemoryMode =
  /** The last `size` frames are one cycle; the oldest leaves as a new one arrives. */
  | { kind: 'window'; size: number }
  /** Every closed window of `size` frames becomes one more stored cycle, at most `capacity`; then the oldest is dropped (reported). */
  | { kind: 'segments'; size: number; capacity: number }
  /** One cycle that lengthens; at `max` frames it keeps the last `max` (reported once: capacity reached). */
  | { kind: 'grow'; max: number };

export interface LiveMemoryOptions {
  mode: LiveMemoryMode;
  /** Trainer steps the current dataset must get before the next frame is admitted (backpressure). */
  minSteps: number;
  /** Steps taken by the trainer so far (e.g. train-step events' step), an explicit input stream. */
  steps: Observable<number>;
  /**
   * The trainer is at the loss target and waits for data (train's `onIdle`): the gate opens at
   * once, whatever the steps. Without it a trainer that reaches the target in fewer than `minSteps`
   * steps would wait for a frame the gate waits to let in.
   */
  idle?: Observable<unknown>;
  /**
   * Frames with equal keys are one point to the net (e.g. equal once quantized to 8 bits): a frame
   * whose key is that of a frame in memory (or of the held one) is not taken in and is counted as
   * `repeated` — no map can send one point to two different successors (a still camera, a stream
   * that loops). Default: every frame is new.
   */
  key?: (data: Float32Array) => string;
  /** Called with the counts after every frame and every admission (outputs only follow admissions, so their counts lag drops and repeats). */
  onCounts?: (counts: LiveCounts) => void;
}

export interface LiveCounts {
  /** Frames received. */
  arrived: number;
  /** Frames taken into memory. */
  admitted: number;
  /**
   * Frames replaced in the hold by a newer one (never admitted). Every output follows an admission,
   * which empties the hold, so arrived = admitted + dropped + repeated in each; drops made while
   * nothing is admitted show in the next output.
   */
  dropped: number;
  /** Frames in memory (the held one not included). */
  stored: number;
  /** Frames not taken in because they repeat a frame in memory (see `key`). */
  repeated: number;
}

export type LiveMemoryOutput =
  | { kind: 'dataset'; dataset: Dataset; frames: number[]; counts: LiveCounts }
  | { kind: 'capacity'; message: string; droppedFrames: number[]; counts: LiveCounts };

interface Admission {
  /** The trained sequences changed. */
  changed: boolean;
  capacity?: { message: string; dropped: MemoryFrame[] };
}

/** A mode's memory: `add` takes a frame in; `sequences` are the trained ones (each of ≥ 2 frames). */
interface Memory {
  add(f: MemoryFrame): Admission;
  sequences(): MemoryFrame[][];
  size(): number;
  /** Every frame in memory (stored and open, trained or not yet). */
  frames(): MemoryFrame[];
}

function windowMemory(size: number): Memory {
  const w: MemoryFrame[] = [];
  return {
    add: (f) => {
      w.push(f);
      if (w.length > size) w.shift();
      return { changed: w.length >= 2 };
    },
    sequences: () => (w.length >= 2 ? [w.slice()] : []),
    size: () => w.length,
    frames: () => w,
  };
}

function segmentsMemory(size: number, capacity: number): Memory {
  const stored: MemoryFrame[][] = [];
  let open: MemoryFrame[] = [];
  return {
    add: (f) => {
      open.push(f);
      if (open.length < size) return { changed: open.length >= 2 };
      stored.push(open);
      open = [];
      if (stored.length <= capacity) return { changed: true };
      const dropped = stored.shift()!;
      return {
        changed: true,
        capacity: {
          message: `segments: ${capacity} stored cycle${capacity === 1 ? '' : 's'} is the capacity; the oldest (frames ${dropped[0].index}–${dropped[dropped.length - 1].index}) was dropped`,
          dropped,
        },
      };
    },
    sequences: () => [...stored, ...(open.length >= 2 ? [open.slice()] : [])],
    size: () => stored.reduce((a, s) => a + s.length, open.length),
    frames: () => [...stored.flat(), ...open],
  };
}

function growMemory(max: number): Memory {
  const seq: MemoryFrame[] = [];
  let reported = false;
  return {
    add: (f) => {
      seq.push(f);
      if (seq.length <= max) return { changed: seq.length >= 2 };
      const dropped = seq.shift()!;
      if (reported) return { changed: true };
      reported = true;
      return {
        changed: true,
        capacity: {
          message: `grow: capacity of ${max} frames reached; from now on the cycle keeps the last ${max} (frame ${dropped.index} left first; later ones are not reported)`,
          dropped: [dropped],
        },
      };
    },
    sequences: () => (seq.length >= 2 ? [seq.slice()] : []),
    size: () => seq.length,
    frames: () => seq,
  };
}

const bad = (what: string) => new EngramError('E_BAD_ARGUMENT', `liveMemory: ${what}`);

function checkInt(name: string, v: unknown, min: number): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw bad(`${name} must be an integer ≥ ${min}; got ${String(v)}`);
}

function memoryFor(mode: LiveMemoryMode): () => Memory {
  switch (mode?.kind) {
    case 'window':
      checkInt('mode.size', mode.size, 2);
      return () => windowMemory(mode.size);
    case 'segments':
      checkInt('mode.size', mode.size, 2);
      checkInt('mode.capacity', mode.capacity, 1);
      return () => segmentsMemory(mode.size, mode.capacity);
    case 'grow':
      checkInt('mode.max', mode.max, 2);
      return () => growMemory(mode.max);
    default:
      throw bad(`mode.kind must be 'window', 'segments' or 'grow'; got ${String((mode as { kind?: unknown } | undefined)?.kind)}`);
  }
}

export function liveMemory(o: LiveMemoryOptions): OperatorFunction<MemoryFrame, LiveMemoryOutput> {
  const newMemory = memoryFor(o.mode);
  checkInt('minSteps', o.minSteps, 0);
  if (!o.steps || typeof o.steps.subscribe !== 'function') throw bad('steps must be an Observable of step counts');
  const { minSteps, steps } = o;
  return (source) =>
    new Observable<LiveMemoryOutput>((sub) => {
      const memory = newMemory();
      let arrived = 0, admitted = 0, dropped = 0, repeated = 0;
      const keys = new WeakMap<MemoryFrame, string>();
      const keyOf = (f: MemoryFrame) => {
        let k = keys.get(f);
        if (k === undefined) keys.set(f, (k = o.key!(f.data)));
        return k;
      };
      const repeats = (f: MemoryFrame) => {
        if (!o.key) return false;
        const k = keyOf(f);
        return (held !== null && keyOf(held) === k) || memory.frames().some((m) => keyOf(m) === k);
      };
      let held: MemoryFrame | null = null;
      /** The trainer's latest step count, and the count when the last dataset was emitted. */
      let stepCount = 0, emittedAt = 0;
      /** The trainer has said it waits for data since the last dataset. */
      let idle = false;
      let dim = -1;
      const counts = (): LiveCounts => ({ arrived, admitted, dropped, stored: memory.size(), repeated });
      const gateOpen = () => memory.size() < 2 || idle || stepCount - emittedAt >= minSteps;

      const admit = (f: MemoryFrame) => {
        admitted++;
        const a = memory.add(f);
        if (a.capacity) {
          sub.next({ kind: 'capacity', message: a.capacity.message, droppedFrames: a.capacity.dropped.map((d) => d.index), counts: counts() });
        }
        if (!a.changed) return;
        const seqs = memory.sequences();
        const dataset = makeDataset(seqs.length > 1 ? 'multi-cycle' : 'cycle', seqs.map((s) => s.map((x) => x.data)));
        emittedAt = stepCount;
        idle = false;
        sub.next({ kind: 'dataset', dataset, frames: seqs.flatMap((s) => s.map((x) => x.index)), counts: counts() });
      };
      const admitHeld = () => {
        const f = held!;
        held = null;
        admit(f);
        o.onCounts?.(counts());
      };

      const stepsSub = steps.subscribe({
        next: (n) => {
          stepCount = n;
          if (held && gateOpen()) admitHeld();
        },
        error: (err) => sub.error(err),
      });
      const idleSub = o.idle?.subscribe({
        next: () => {
          idle = true;
          if (held) admitHeld();
        },
        error: (err) => sub.error(err),
      });
      if (sub.closed) {
        idleSub?.unsubscribe();
        return () => stepsSub.unsubscribe();
      }
      const frameSub = source.subscribe({
        next: (f) => {
          arrived++;
          if (dim < 0) dim = f.data.length;
          else if (f.data.length !== dim) {
            sub.error(new EngramError('E_INPUT_INVALID', `liveMemory: frame ${f.index} has ${f.data.length} values, the first frame had ${dim}; a live memory needs frames of one size`));
            return;
          }
          if (repeats(f)) repeated++;
          else if (held === null && gateOpen()) admit(f);
          else {
            if (held) dropped++;
            held = f;
          }
          o.onCounts?.(counts());
        },
        error: (err) => sub.error(err),
        complete: () => {
          if (held) admitHeld();
          sub.complete();
        },
      });
      return () => {
        frameSub.unsubscribe();
        stepsSub.unsubscribe();
        idleSub?.unsubscribe();
      };
    });
}

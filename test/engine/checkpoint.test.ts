import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../engine/tf.ts';
import { selectBackend } from '../../engine/backend.ts';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { CHECKPOINT_VERSION, crc32Table, loadCheckpoint, type CheckpointContents, type NamedArray } from '../../engine/checkpoint.ts';
import { createFcModel, type ModelSpec } from '../../engine/model.ts';
import { makeDataset } from '../../engine/objectives.ts';
import { createTrainer } from '../../engine/trainer.ts';
import { EngramError } from '../../errors.ts';
import { saveCheckpoint } from '../../sinks/checkpoints.ts';

let root: string;
let n = 0;
/** A fresh empty directory per test. */
const freshDir = () => {
  const d = join(root, `t${n++}`);
  mkdirSync(d);
  return d;
};

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'engram-ckpt-'));
  await selectBackend('cpu');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const SPEC: ModelSpec = { kind: 'fc', dim: 4, width: 8, depth: 2, activation: 'cosid', bias: true, init: 'torch', seed: 7 };

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
const arr = (name: string, shape: number[], values: number[]): NamedArray => ({ name, shape, data: Float32Array.from(values) });

function sample(): CheckpointContents {
  const special = [0, -0, 1, -1, 1e-45, 3.4028234663852886e38, -Infinity, Infinity, NaN, Math.PI, 1 / 3, 1e-8];
  return {
    spec: SPEC,
    step: 1234,
    weights: [
      arr('W0', [3, 4], special),
      arr('b0', [4], [0.5, -0.25, 0.125, 7]),
      arr('W1', [4, 1], [1, 2, 3, 4]),
      arr('empty', [0], []),
    ],
    optimizer: {
      spec: { name: 'adam', lr: 1e-4, beta1: 0.9 },
      state: [arr('W0/m', [3, 4], special.map((v) => v / 2)), arr('W0/v', [3, 4], special.map(() => 0.001)), arr('step', [1], [1234])],
    },
    data: { objective: 'multi-cycle', sequenceLengths: [2, 1], vectors: arr('vectors', [3, 2], [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]) },
    meta: { note: 'ünïcødé ✓', nested: { a: [1, 2] } },
  };
}

function expectSame(a: NamedArray[], b: NamedArray[]) {
  expect(a.map((x) => [x.name, x.shape])).toEqual(b.map((x) => [x.name, x.shape]));
  a.forEach((x, i) => expect(bits(x.data), x.name).toEqual(bits(b[i].data)));
}

async function code(f: () => unknown): Promise<string> {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(EngramError);
    return (e as EngramError).code;
  }
  return 'no error';
}

describe('checkpoints', () => {
  it('save → load returns weights, optimizer state and data vectors bit for bit', () => {
    const dir = freshDir(), path = join(dir, 'model.ckpt');
    const c = sample();
    saveCheckpoint(path, c);
    const r = loadCheckpoint(path);
    expect(r.spec).toEqual(SPEC);
    expect(r.step).toBe(1234);
    expectSame(r.weights, c.weights);
    expect(r.optimizer!.spec).toEqual(c.optimizer!.spec);
    expectSame(r.optimizer!.state, c.optimizer!.state);
    expect(r.data!.objective).toBe('multi-cycle');
    expect(r.data!.sequenceLengths).toEqual([2, 1]);
    expectSame([r.data!.vectors], [c.data!.vectors]);
    expect(r.meta).toEqual(c.meta);
    // arrays are float32, 4-byte aligned
    for (const w of r.weights) expect(w.data).toBeInstanceOf(Float32Array);
  });

  it('leaves no partial file behind, also when overwriting', () => {
    const dir = freshDir(), path = join(dir, 'run.ckpt');
    saveCheckpoint(path, sample());
    expect(readdirSync(dir)).toEqual(['run.ckpt']);
    const size1 = statSync(path).size;
    const bigger = sample();
    bigger.weights.push(arr('W9', [100], new Array(100).fill(2)));
    saveCheckpoint(path, bigger);
    expect(readdirSync(dir)).toEqual(['run.ckpt']);
    expect(statSync(path).size).toBeGreaterThan(size1 + 400);
    expect(loadCheckpoint(path).weights.at(-1)!.name).toBe('W9');
  });

  it('omits optimizer and data when not given; header padding works for every JSON length', () => {
    const dir = freshDir();
    for (let pad = 0; pad < 8; pad++) {
      const path = join(dir, `p${pad}.ckpt`);
      const c: CheckpointContents = { spec: SPEC, step: pad, weights: [arr('W0', [2], [pad, -pad])], meta: { s: 'x'.repeat(pad) } };
      saveCheckpoint(path, c);
      const r = loadCheckpoint(path);
      expect(r.optimizer).toBeUndefined();
      expect(r.data).toBeUndefined();
      expect(r.meta).toEqual({ s: 'x'.repeat(pad) });
      expect(Array.from(r.weights[0].data)).toEqual([pad, -pad]);
      expect(readFileSync(path).length % 4).toBe(0);
    }
  });

  it('a model and its optimizer resume exactly from a checkpoint', () => {
    const dir = freshDir(), path = join(dir, 'm.ckpt');
    const seqs = [[0, 1, 2].map((i) => Float32Array.from([i / 3, 1 - i / 3, 0.5, (i * i) / 9]))];
    const ds = makeDataset('cycle', seqs);
    const opt = { name: 'adam' as const, lr: 1e-2 };
    const a = createFcModel(SPEC);
    const ta = createTrainer(a, ds, opt);
    for (let i = 0; i < 5; i++) ta.step();
    saveCheckpoint(path, {
      spec: a.spec, step: ta.optimizer.step,
      weights: a.weights(),
      optimizer: { spec: { ...ta.optimizer.spec }, state: ta.optimizer.state().map((s) => ({ ...s, shape: [s.data.length] })) },
    });
    const r = loadCheckpoint(path);
    const b = createFcModel({ ...(r.spec as ModelSpec), seed: 999 });
    b.setWeights(r.weights);
    const tb = createTrainer(b, ds, opt);
    tb.optimizer.setState(r.optimizer!.state);
    expect(tb.optimizer.step).toBe(5);
    expect(tb.loss()).toBe(ta.loss());
    for (let i = 0; i < 3; i++) expect(tb.step().loss).toBe(ta.step().loss);
    a.weights().forEach((w, i) => expect(bits(b.weights()[i].data), w.name).toEqual(bits(w.data)));
    [ta, tb].forEach((t) => t.dispose());
    [a, b].forEach((m) => m.dispose());
    expect(tf.memory().numTensors).toBe(0);
  });

  it('a missing file is E_INPUT_MISSING', async () => {
    expect(await code(() => loadCheckpoint(join(root, 'nope', 'x.ckpt')))).toBe('E_INPUT_MISSING');
  });

  it('a truncated file is E_CHECKPOINT (in the data, in the header, before the header length)', async () => {
    const dir = freshDir(), path = join(dir, 'c.ckpt');
    saveCheckpoint(path, sample());
    const full = statSync(path).size;
    for (const len of [full - 1, full - 4, full - 48, 40, 12, 11, 8, 3, 0]) {
      saveCheckpoint(path, sample());
      truncateSync(path, len);
      expect(await code(() => loadCheckpoint(path)), `truncated to ${len}`).toBe('E_CHECKPOINT');
    }
  });

  it('extra trailing bytes are E_CHECKPOINT', async () => {
    const dir = freshDir(), path = join(dir, 'c.ckpt');
    saveCheckpoint(path, sample());
    writeFileSync(path, Buffer.concat([readFileSync(path), Buffer.alloc(4)]));
    expect(await code(() => loadCheckpoint(path))).toBe('E_CHECKPOINT');
  });

  it('wrong magic, unreadable header and another version are E_CHECKPOINT', async () => {
    const dir = freshDir(), path = join(dir, 'c.ckpt');
    saveCheckpoint(path, sample());
    const good = readFileSync(path);

    const magic = Buffer.from(good);
    magic.write('ENGRAMCX', 0, 'latin1');
    writeFileSync(path, magic);
    let e = (() => { try { loadCheckpoint(path); } catch (x) { return x as EngramError; } })()!;
    expect(e.code).toBe('E_CHECKPOINT');
    expect(e.message).toContain('magic');

    const json = Buffer.from(good);
    json[12] = 0x21; // '{' → '!'
    writeFileSync(path, json);
    expect(await code(() => loadCheckpoint(path))).toBe('E_CHECKPOINT');

    const hlen = good.readUInt32LE(8);
    const header = good.toString('utf8', 12, 12 + hlen);
    const bumped = header.replace(`"version":${CHECKPOINT_VERSION}`, `"version":${CHECKPOINT_VERSION + 1}`);
    expect(bumped.length).toBe(header.length);
    writeFileSync(path, Buffer.concat([good.subarray(0, 12), Buffer.from(bumped, 'utf8'), good.subarray(12 + hlen)]));
    e = (() => { try { loadCheckpoint(path); } catch (x) { return x as EngramError; } })()!;
    expect(e.code).toBe('E_CHECKPOINT');
    expect(e.message).toContain('version');

    writeFileSync(path, 'not a checkpoint at all, just some text');
    expect(await code(() => loadCheckpoint(path))).toBe('E_CHECKPOINT');
  });
});

describe('damaged checkpoints say "corrupt"', () => {
  const message = (path: string) => (() => { try { loadCheckpoint(path); return ''; } catch (x) { return (x as EngramError).message; } })();

  it('a bit flipped anywhere in the data is caught by the checksum', () => {
    const dir = freshDir(), path = join(dir, 'c.ckpt');
    saveCheckpoint(path, sample());
    const good = readFileSync(path);
    const dataStart = 12 + good.readUInt32LE(8);
    for (const at of [dataStart, dataStart + 17, good.length - 1]) {
      for (const bit of [0, 7]) {
        const flipped = Buffer.from(good);
        flipped[at] ^= 1 << bit;
        writeFileSync(path, flipped);
        const m = message(path);
        expect(m, `byte ${at} bit ${bit}`).toContain('is corrupt');
        expect(m).toContain('checksum');
      }
    }
    writeFileSync(path, good);
    expect(message(path)).toBe('');
  });

  it('a truncated file says "corrupt (truncated …)" with its size', () => {
    const dir = freshDir(), path = join(dir, 'c.ckpt');
    saveCheckpoint(path, sample());
    const full = statSync(path).size;
    truncateSync(path, full - 8);
    expect(message(path)).toMatch(new RegExp(`is corrupt \\(truncated: ${full - 8} bytes, its header promises ${full}\\)`));
    truncateSync(path, 40);
    expect(message(path)).toMatch(/is corrupt \(truncated: 40 bytes, its header alone needs \d+\)/);
    truncateSync(path, 5); // still the start of the magic: a cut file, not another kind of file
    expect(message(path)).toContain('is corrupt (truncated: 5 bytes)');
    truncateSync(path, 0);
    expect(message(path)).toContain('is corrupt (0 bytes)');
  });

  it('the CRC-32 computed here (for Node 20 before 20.15) is zlib\'s, also chained', () => {
    const bytes = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7919) % 251);
    expect(crc32Table(bytes)).toBe(zlibCrc32(bytes));
    expect(crc32Table(bytes.subarray(600), crc32Table(bytes.subarray(0, 600)))).toBe(zlibCrc32(bytes));
  });

  it('a checkpoint written before the checksum existed still loads', () => {
    const dir = freshDir(), path = join(dir, 'c.ckpt');
    saveCheckpoint(path, sample());
    const good = readFileSync(path);
    const hlen = good.readUInt32LE(8);
    const header = good.toString('utf8', 12, 12 + hlen);
    const legacy = header.replace(/"crc32":\d+,/, (m) => ' '.repeat(m.length)); // same length: the data offset is unchanged
    expect(legacy).not.toContain('crc32');
    writeFileSync(path, Buffer.concat([good.subarray(0, 12), Buffer.from(legacy, 'utf8'), good.subarray(12 + hlen)]));
    expect(bits(loadCheckpoint(path).weights[0].data)).toEqual(bits(sample().weights[0].data));
  });
});

describe('checkpoint file-system errors', () => {
  const tiny = (): CheckpointContents => ({
    spec: { kind: 'fc', dim: 2, width: 3, depth: 1, activation: 'relu', bias: false, init: 'torch', seed: 1 },
    step: 0,
    weights: [{ name: 'W0', shape: [2, 3], data: new Float32Array(6) }],
  });

  it('saving into a missing directory is an E_CHECKPOINT naming the path', () => {
    const path = join(tmpdir(), 'engram-no-such-dir', 'model.ckpt');
    expect(() => saveCheckpoint(path, tiny())).toThrow(EngramError);
    try {
      saveCheckpoint(path, tiny());
    } catch (e) {
      expect((e as EngramError).code).toBe('E_CHECKPOINT');
      expect((e as EngramError).message).toContain(path);
    }
  });

  it('loading a directory is an E_INPUT_UNREADABLE', () => {
    const dir = mkdtempSync(join(tmpdir(), 'engram-ckpt-dir-'));
    try {
      loadCheckpoint(dir);
      expect.unreachable();
    } catch (e) {
      expect((e as EngramError).code).toBe('E_INPUT_UNREADABLE');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

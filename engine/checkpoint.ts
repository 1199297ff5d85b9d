/**
 * Checkpoints: one file holding the model spec, its weights, the optimiser state and (optionally)
 * the training vectors, so a run can be recalled or resumed without its source media.
 *
 * Layout: "ENGRAMCK" (8 bytes) · u32 LE header length · header JSON (UTF-8, padded to 4) · float32 LE
 * data. The header carries the CRC-32 of the data bytes (`crc32`), so a file damaged after it was
 * written (bit rot, a partial copy) is reported as corrupt rather than loaded; files written before
 * the checksum existed load without it. `encodeCheckpoint` makes the bytes; sinks/checkpoints.ts
 * writes them to a temporary name and renames it, so a checkpoint that exists is complete.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as zlib from 'node:zlib';
import { EngramError } from '../errors.ts';
import { createFcModel, validateSpec, type Model, type NetSpec } from './model.ts';
import { createUnetModel } from './unet.ts';

const MAGIC = 'ENGRAMCK';

/** zlib's CRC-32 (Node ≥ 20.15), else the same checksum computed here (older Node 20s). */
const crc32: (data: Uint8Array, value?: number) => number = (zlib as { crc32?: (d: Uint8Array, v?: number) => number }).crc32 ?? crc32Table;

let TABLE: Uint32Array | undefined;
export function crc32Table(data: Uint8Array, value = 0): number {
  TABLE ??= Uint32Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  let c = ~value >>> 0;
  for (let i = 0; i < data.length; i++) c = TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}
export const CHECKPOINT_VERSION = 1;

export interface NamedArray {
  name: string;
  shape: number[];
  data: Float32Array;
}

export interface CheckpointContents {
  spec: NetSpec;
  step: number;
  weights: NamedArray[];
  optimizer?: { spec: Record<string, unknown>; state: NamedArray[] };
  /** Training vectors and their sequence lengths, for recall matching. */
  data?: { objective: string; sequenceLengths: number[]; vectors: NamedArray };
  meta?: Record<string, unknown>;
}

interface Entry {
  name: string;
  group: 'weights' | 'optimizer' | 'data';
  shape: number[];
  offset: number;
  length: number;
}

/**
 * The checkpoint file's bytes, in order: magic, header length, header, then each array's float32
 * data as a view (no copy). sinks/checkpoints.ts writes them to disk atomically.
 */
export function encodeCheckpoint(c: CheckpointContents): Buffer[] {
  const arrays: [Entry['group'], NamedArray][] = [
    ...c.weights.map((w): [Entry['group'], NamedArray] => ['weights', w]),
    ...(c.optimizer?.state ?? []).map((w): [Entry['group'], NamedArray] => ['optimizer', w]),
    ...(c.data ? [['data', c.data.vectors] as [Entry['group'], NamedArray]] : []),
  ];
  let offset = 0;
  const entries: Entry[] = arrays.map(([group, a]) => {
    const e = { name: a.name, group, shape: a.shape, offset, length: a.data.length };
    offset += a.data.length;
    return e;
  });
  const data = arrays.map(([, a]) => Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength));
  const header = {
    format: 'engram-checkpoint', version: CHECKPOINT_VERSION, spec: c.spec, step: c.step,
    crc32: data.reduce((crc, b) => (b.length ? crc32(b, crc) : crc), 0), // (zlib.crc32 of an empty view of an empty ArrayBuffer returns 0, not crc)
    optimizer: c.optimizer?.spec ?? null,
    data: c.data ? { objective: c.data.objective, sequenceLengths: c.data.sequenceLengths } : null,
    meta: c.meta ?? {}, entries,
  };
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const pad = (4 - ((MAGIC.length + 4 + json.length) % 4)) % 4;
  json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(json.length);
  return [Buffer.from(MAGIC, 'latin1'), len, json, ...data];
}

/** A checkpoint file that exists but is damaged: `problem` says what is wrong ("… is corrupt (truncated: …)"), the message adds what to do. */
export class CorruptCheckpoint extends EngramError {
  readonly problem: string;
  constructor(path: string, why: string) {
    super('E_CHECKPOINT', `${path} is corrupt (${why}); use another checkpoint of the run or re-run 'engram memorize' to make a new one`);
    this.problem = `${path} is corrupt (${why})`;
  }
}

export function loadCheckpoint(path: string): CheckpointContents {
  if (!existsSync(path)) {
    throw new EngramError('E_INPUT_MISSING', `checkpoint ${path} does not exist; pass a run directory made by 'engram memorize' or 'engram demo'`);
  }
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new EngramError('E_INPUT_UNREADABLE', `cannot read checkpoint ${path}: ${(e as Error).message}; pass a model.ckpt file or its run directory`);
  }
  const bad = (why: string) => new CorruptCheckpoint(path, why);
  if (buf.length === 0) throw bad('0 bytes');
  if (buf.length < 12 && MAGIC.startsWith(buf.toString('latin1', 0, Math.min(8, buf.length)))) throw bad(`truncated: ${buf.length} bytes`);
  if (buf.length < 12 || buf.toString('latin1', 0, 8) !== MAGIC) {
    throw new EngramError('E_CHECKPOINT', `${path} is not an engram checkpoint (wrong magic bytes); pass a model.ckpt written by engram, or its run directory`);
  }
  const hlen = buf.readUInt32LE(8);
  if (12 + hlen > buf.length) throw bad(`truncated: ${buf.length} bytes, its header alone needs ${12 + hlen}`);
  let header: {
    version: number; spec: NetSpec; step: number; crc32?: number; optimizer: Record<string, unknown> | null;
    data: { objective: string; sequenceLengths: number[] } | null; meta: Record<string, unknown>; entries: Entry[];
  };
  try {
    header = JSON.parse(buf.toString('utf8', 12, 12 + hlen));
  } catch {
    throw bad('its header is not valid JSON');
  }
  if (header.version !== CHECKPOINT_VERSION) {
    throw new EngramError('E_CHECKPOINT', `${path} is a checkpoint of version ${header.version}; this engram reads version ${CHECKPOINT_VERSION} (use the engram that wrote it)`);
  }
  const entryOk = (e: Entry) =>
    e && typeof e.name === 'string' && ['weights', 'optimizer', 'data'].includes(e.group) && Array.isArray(e.shape) &&
    Number.isInteger(e.offset) && e.offset >= 0 && Number.isInteger(e.length) && e.length >= 0 &&
    e.shape.reduce((a: number, b: number) => a * b, 1) === e.length;
  if (!Array.isArray(header.entries) || !header.entries.every(entryOk)) throw bad('malformed tensor table');
  if (!Number.isInteger(header.step) || header.step < 0) throw bad('malformed step');
  try {
    validateSpec(header.spec);
  } catch (e) {
    throw bad(`model spec: ${(e as Error).message}`);
  }
  const dataStart = 12 + hlen;
  const total = header.entries.reduce((a, e) => a + e.length, 0);
  if (buf.length !== dataStart + total * 4) {
    throw bad(`${buf.length < dataStart + total * 4 ? 'truncated' : 'trailing bytes'}: ${buf.length} bytes, its header promises ${dataStart + total * 4}`);
  }
  if (header.crc32 !== undefined && crc32(buf.subarray(dataStart)) !== header.crc32) throw bad('its data does not match the checksum in its header: the file was damaged after it was written');
  // copy so the arrays are 4-byte aligned and independent of the file buffer
  const floats = new Float32Array(total);
  Buffer.from(floats.buffer).set(buf.subarray(dataStart));
  const get = (e: Entry): NamedArray => ({ name: e.name, shape: e.shape, data: floats.subarray(e.offset, e.offset + e.length) });
  const of = (g: Entry['group']) => header.entries.filter((e) => e.group === g).map(get);
  const dataEntry = header.entries.find((e) => e.group === 'data');
  return {
    spec: header.spec,
    step: header.step,
    weights: of('weights'),
    optimizer: header.optimizer ? { spec: header.optimizer, state: of('optimizer') } : undefined,
    data: header.data && dataEntry ? { ...header.data, vectors: get(dataEntry) } : undefined,
    meta: header.meta,
  };
}

/** Throws E_CHECKPOINT when weights hold NaN or ±Inf (a run that diverged). */
export function assertFiniteWeights(path: string, c: CheckpointContents): void {
  const bad = c.weights.find((w) => !w.data.every(Number.isFinite));
  if (bad) {
    throw new EngramError('E_CHECKPOINT', `${path}: weight ${bad.name} holds NaN or Inf (the run diverged); use an earlier checkpoint or memorize again with a smaller --lr`);
  }
}

/** The checkpoint's network with its weights; every problem is an E_CHECKPOINT naming the file. */
export function modelFromCheckpoint(path: string, c: CheckpointContents): Model<NetSpec> {
  assertFiniteWeights(path, c);
  const model: Model<NetSpec> = c.spec.kind === 'unet'
    ? createUnetModel(c.spec)
    : createFcModel(c.spec, new Float32Array(c.spec.dim).fill(1 / Math.sqrt(c.spec.dim)));
  try {
    model.setWeights(c.weights);
  } catch (e) {
    model.dispose();
    throw new EngramError('E_CHECKPOINT', `${path} does not fit its own model spec (${(e as Error).message}); memorize again`);
  }
  return model;
}

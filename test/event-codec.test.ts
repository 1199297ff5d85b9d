import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseEvent, serializeEvent, validateEvent } from '../event-codec.ts';
import { EVENT_KINDS, EVENT_SCHEMA_VERSION, type EngramEvent, type RunStartEvent } from '../events.ts';
import { ALL_FIXTURES, ONE_OF_EACH, memorizeConfig, runStart } from './fixtures/events/one-of-each.ts';

const fixture = (name: string) => readFileSync(fileURLToPath(new URL(`./fixtures/events/${name}`, import.meta.url)), 'utf8');
const ok = (line: string): EngramEvent => {
  const d = parseEvent(line);
  if (!d.ok) throw new Error(d.error);
  return d.event;
};
const rejected = (value: unknown): string => {
  const d = validateEvent(value);
  if (d.ok) throw new Error(`accepted ${JSON.stringify(value)}`);
  return d.error;
};

describe('event codec', () => {
  it('has a fixture for every kind', () => {
    expect(Object.keys(ONE_OF_EACH).sort()).toEqual([...EVENT_KINDS].sort());
  });

  it.each(ALL_FIXTURES.map((e) => [`${e.kind}${e.kind === 'run-start' ? ` (${e.config.command})` : e.kind === 'preview' ? ` (${e.media})` : ''}`, e] as const))(
    'round-trips %s, non-finite numbers included, as one line of valid JSON',
    (_name, e) => {
      const line = serializeEvent(e);
      expect(line).not.toContain('\n');
      expect(() => JSON.parse(line)).not.toThrow();
      expect(ok(line)).toEqual(e);
    },
  );

  it('loads a recall event written before outcomes existed, and refuses an unknown outcome kind', () => {
    const { outcome, ...old } = ONE_OF_EACH.recall;
    const back = ok(serializeEvent(old as EngramEvent));
    expect(back.kind === 'recall' && back.outcome).toBeUndefined();
    expect(rejected({ ...ONE_OF_EACH.recall, outcome: { ...outcome!, kind: 'maybe' } })).toMatch(/^recall: outcome\.kind: expected/);
  });

  it('turns "NaN" and "Infinity" back into numbers only where the schema has a number', () => {
    expect(ok(serializeEvent(ONE_OF_EACH.log))).toMatchObject({ message: 'NaN' });
    expect(ok(serializeEvent(ONE_OF_EACH.artifact))).toMatchObject({ path: 'NaN' });
    const rec = ok(serializeEvent(ONE_OF_EACH.recall));
    expect(rec.kind === 'recall' && rec.frames[0]).toMatchObject({ l2Stored: Number.NaN, psnr: Infinity });
    expect(rec).toMatchObject({ meanPsnr: -Infinity });
    expect(rec.kind === 'recall' && rec.outcome).toMatchObject({ kind: 'approximate-orbit', worstPsnr: Number.NaN, why: 'NaN', inOrder: null });
    const sp = ok(serializeEvent(ONE_OF_EACH.spurious));
    expect(sp.kind === 'spurious' && sp.items[0]).toMatchObject({ from: ['NaN', 'U[0,1]'], l2Nearest: Infinity, path: 'Infinity.png' });
    const rs = ok(serializeEvent(runStart({ ...memorizeConfig, runId: 'NaN' })));
    expect(rs.kind === 'run-start' && rs.config).toMatchObject({ runId: 'NaN', outDir: 'runs/NaN', input: { path: 'Infinity.mp4' } });
  });

  it('rejects an unknown kind, with its name', () => {
    expect(rejected({ runId: 'r', step: 1, time: 1, kind: 'rocket-launch' })).toBe('unknown event kind "rocket-launch"');
    expect(rejected({ runId: 'r', step: 1, time: 1 })).toBe('unknown event kind undefined');
    expect(rejected([1, 2])).toMatch(/expected an event object/);
  });

  it('rejects missing or mistyped base fields', () => {
    const { runId: _, ...noRunId } = ONE_OF_EACH['train-step'];
    expect(rejected(noRunId)).toBe('train-step: runId: missing');
    expect(rejected({ ...ONE_OF_EACH.log, step: '3' })).toBe('log: step: expected a number, got "3"');
    expect(rejected({ ...ONE_OF_EACH.log, time: null })).toBe('log: time: expected a number, got null');
    expect(rejected({ ...ONE_OF_EACH.log, runId: 7 })).toBe('log: runId: expected a string, got 7');
  });

  it('rejects wrong field types and values outside a closed set, naming the field', () => {
    expect(rejected({ ...ONE_OF_EACH['train-step'], loss: '0.5' })).toBe('train-step: loss: expected a number, got "0.5"');
    expect(rejected({ ...ONE_OF_EACH.log, level: 'debug' })).toBe('log: level: expected "info" | "warn" | "error", got "debug"');
    expect(rejected({ ...ONE_OF_EACH.dataset, objective: 'memorize' })).toMatch(/^dataset: objective: expected "autoencode"/);
    const r = ONE_OF_EACH.recall;
    expect(rejected({ ...r, frames: [{ ...r.frames[0], l2: 'far' }] })).toBe('recall: frames[0].l2: expected a number, got "far"');
    expect(rejected({ ...ONE_OF_EACH.preview, pixels: undefined })).toBe('preview: pixels: missing');
    expect(rejected({ ...ONE_OF_EACH.preview, media: 'video' })).toBe('preview: media: expected "image" | "audio", got "video"');
    expect(rejected(runStart({ ...memorizeConfig, maxSteps: 'lots' } as unknown as RunStartEvent['config']))).toBe('run-start: config.maxSteps: expected a number, got "lots"');
  });

  it('keeps fields it does not know (an optional field added later)', () => {
    expect(ok(JSON.stringify({ ...ONE_OF_EACH.control, note: 'NaN' }))).toMatchObject({ command: 'pause', note: 'NaN' });
  });

  it('tells a line that is not JSON from one that is not an event', () => {
    expect(parseEvent('{"kind":"tr')).toMatchObject({ ok: false, json: false });
    expect(parseEvent('{"kind":"train-step"}')).toMatchObject({ ok: false, json: true });
  });

  it('refuses a run-start from a newer protocol with an error that says so and what to do', () => {
    const newer = JSON.stringify({ ...runStart(), schemaVersion: EVENT_SCHEMA_VERSION + 1 });
    expect(() => parseEvent(newer)).toThrow(expect.objectContaining({
      code: 'E_INPUT_INVALID',
      message: expect.stringMatching(/written by a newer engram \(event schema version 2; this engram reads up to 1\); upgrade engram to read it/),
    }));
  });

  describe('logs written before schemaVersion (version 1)', () => {
    const parse = (name: string) => fixture(name).split('\n').filter((l) => l.trim()).map(ok);

    it('loads a memorize log: every line, run-start as version 1 with its config told apart', () => {
      const events = parse('legacy-memorize.jsonl');
      expect(events.map((e) => e.kind)).toEqual(expect.arrayContaining(['run-start', 'dataset', 'stability', 'train-step', 'train-end', 'recall', 'preview', 'attractors', 'artifact', 'run-end']));
      const start = events[0] as RunStartEvent;
      expect(start.schemaVersion).toBe(1);
      expect(start.config).toMatchObject({ command: 'memorize', objective: 'cycle', input: { kind: 'video' }, recovery: false, monitor: { every: 0 } });
      const recall = events.find((e) => e.kind === 'recall');
      expect(recall?.kind === 'recall' && recall.frames.every((f) => Number.isNaN(f.l2Stored))).toBe(true);
    });

    it('loads assoc, basins and identity logs, each config as its own command', () => {
      const starts = parse('legacy-assoc-basins-identity.jsonl').filter((e): e is RunStartEvent => e.kind === 'run-start');
      expect(starts.map((e) => [e.schemaVersion, e.config.command])).toEqual([[1, 'assoc'], [1, 'basins'], [1, 'identity']]);
    });

    it('fills in the media data of an empty preview', () => {
      const base = { runId: 'r', step: 3, time: 3, kind: 'preview', frame: -1, width: 0, height: 0, channels: 1 };
      expect(ok(JSON.stringify({ ...base, media: 'image' }))).toMatchObject({ media: 'image', pixels: '' });
      expect(ok(JSON.stringify({ ...base, media: 'audio', height: 1 }))).toMatchObject({ media: 'audio', waveform: [] });
    });
  });
});

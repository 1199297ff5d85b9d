/**
 * The probes of docs/math.md §6 at the end of a memorize run: the recovery monitor (corruption sweep with
 * the 1-NN baseline, pure-noise probes) and the spurious attractors it meets, certified with the
 * eigen test. Writes spurious/spurious-<i>.png (image/video runs) and recovery.png.
 *
 *   recall ─▶ recovery ─▶ (PNGs) ─▶ recovery, spurious events ─▶ (plot) ─▶ log
 */
import { join } from 'node:path';
import { Observable, catchError, concat, defer, from, mergeMap, of } from 'rxjs';
import { certifyCycle } from '../engine/certify.ts';
import { loadBlasAddon } from '../engine/native-blas.ts';
import type { Model } from '../engine/model.ts';
import type { EngramEvent, EventBody } from '../events.ts';
import { JS_SOLVER_LIMIT } from '../operators/attractors.ts';
import type { RecallOutput } from '../operators/recall.ts';
import { recovery, type RecoveryOptions, type RecoveryOutput } from '../operators/recovery.ts';
import { writePlot } from '../sinks/plot.ts';
import { recoveryPlotSpec } from '../sinks/plots/recovery.ts';
import { contactSheet, writePngSeries } from '../sinks/png.ts';
import type { MediaShape } from './inputs.ts';

/** What `memorize` runs after recall (options of the monitor; the run's own id/step are added). */
export type RecoveryConfig = Omit<RecoveryOptions, 'runId' | 'step'>;

export function recoveryStage(
  a: { model: Model; sequences: Float32Array[][]; objective: 'autoencode' | 'cycle' | 'multi-cycle'; recall: RecallOutput; shape: MediaShape; outDir: string; runId: string; step: number },
  cfg: RecoveryConfig,
  ev: (body: EventBody) => EngramEvent,
): Observable<EngramEvent> {
  const { model, shape } = a;
  const frame = shape.kind === 'audio' ? { width: shape.samples, height: 1, channels: 1 } : { width: shape.width, height: shape.height, channels: shape.channels };
  const { dim: d, width: w } = model.spec;
  // the certificate solves a min(d, W)-sized eigenproblem; without LAPACK only small ones are quick
  const canCertify = loadBlasAddon() !== null || Math.min(d, w) <= JS_SOLVER_LIMIT;
  const certify = canCertify ? (points: Float32Array[]) => certifyCycle(model, points, 3) : undefined;
  return of({ map: model, sequences: a.sequences, objective: a.objective, stored: a.recall.stored, frame, certify }).pipe(
    recovery({ runId: a.runId, step: a.step, ...cfg }),
    mergeMap((out) => defer(() => {
      const pngs = shape.kind === 'audio' ? [] : writeSpurious(a.outDir, out, shape);
      out.spurious.items.forEach((it, i) => pngs[i] && (it.path = pngs[i]));
      const rec = ev(out.recovery), spur = ev(out.spurious);
      const plotPath = join(a.outDir, 'recovery.png');
      const spec = recoveryPlotSpec([rec]);
      return concat(
        of(rec, spur),
        spec ? defer(() => from(writePlot(plotPath, spec))).pipe(
          mergeMap((p) => of(ev({ kind: 'artifact', what: 'plot', path: p }))),
          catchError((e: unknown) => of(ev({ kind: 'log', level: 'warn', message: `recovery plot not drawn: ${e instanceof Error ? e.message : String(e)}` }))),
        ) : of(),
      );
    })),
  );
}

/** Each spurious limit as a PNG (a cycle: its states side by side); returns the paths. */
function writeSpurious(outDir: string, out: RecoveryOutput, shape: Extract<MediaShape, { kind: 'video' | 'images' }>): string[] {
  const sheets = out.spuriousLimits.map((states) => contactSheet([states], shape.width, shape.height, shape.channels, { scale: 4 }));
  return writePngSeries(join(outDir, 'spurious'), 'spurious', sheets);
}

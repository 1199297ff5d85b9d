/**
 * Plots as PNG files: a Vega-Lite spec is compiled and rendered headless to SVG by Vega (no canvas,
 * no browser), then rasterized by resvg. Both install offline from npm (resvg ships prebuilt binaries
 * as per-platform npm packages), and Vega-Lite's grammar keeps each plot a small declarative spec.
 */
import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import * as vl from 'vega-lite';
import { EngramError } from '../errors.ts';
import { partialOutput } from './partials.ts';

export type PlotSpec = vl.TopLevelSpec;

/** Fonts resvg can use for labels; without any, plots still render, only without text. */
export const FONT_DIRS = ['/usr/share/fonts', '/usr/local/share/fonts', '/System/Library/Fonts', 'C:\\Windows\\Fonts'];
let warnedNoFonts = false;

/** Render a Vega-Lite spec to SVG text. */
export async function plotSvg(spec: PlotSpec): Promise<string> {
  const compiled = vl.compile({ background: 'white', ...spec } as PlotSpec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Render an SVG to PNG bytes at `scale` × its size. */
export function svgToPng(svg: string, scale = 2): Buffer {
  if (!warnedNoFonts && !FONT_DIRS.some((d) => existsSync(d))) {
    warnedNoFonts = true;
    process.emitWarning('no system fonts found: plot labels will be missing; install a font package (Debian: apt-get install fonts-dejavu-core)');
  }
  const r = new Resvg(svg, { background: 'white', fitTo: { mode: 'zoom', value: scale }, font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' } });
  return Buffer.from(r.render().asPng());
}

/** Write a plot atomically: a reader never sees a half-written PNG under the final name. */
export async function writePlot(path: string, spec: PlotSpec, scale = 2): Promise<string> {
  const png = svgToPng(await plotSvg(spec), scale);
  const tmp = partialOutput(path);
  try {
    writeFileSync(tmp, png);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new EngramError('E_OUTPUT_UNWRITABLE', `cannot write ${path}: ${(e as Error).message}; check the directory exists and is writable`, { cause: e });
  }
  return path;
}

/**
 * The reports of `engram reproduce`: one document, written twice — report.md (for a terminal or a
 * repository viewer) and report.html (for a browser, with the plots inline) — beside result.json
 * (every measured number) and the plots as PNG. A document is a list of blocks, so both renderings
 * say the same thing; inline text may use `code` and **bold**, nothing else.
 *
 * Every file is written to a temporary name and renamed, so a report that is there is complete.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writePlot, type PlotSpec } from './plot.ts';
import { writeJsonAtomic, writeTextAtomic } from './run-dir.ts';

export type ReportBlock =
  | { kind: 'heading'; text: string }
  | { kind: 'paragraph'; text: string }
  | { kind: 'list'; items: string[] }
  | { kind: 'table'; head: string[]; rows: string[][] }
  /** A picture in the report's directory (a plot, a contact sheet). */
  | { kind: 'image'; file: string; caption: string }
  | { kind: 'code'; text: string };

export interface ReportDoc {
  title: string;
  blocks: ReportBlock[];
}

/** Make the report's directory (and its parents). */
export function ensureReportDir(dir: string): string {
  mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * With --force an experiment's report is replaced whole: the run directories of an earlier run
 * (runs/<sub>/ holding a run.json; a rerun at another size may not write the same ones) are
 * removed first. Anything else under runs/ is not engram's and is left alone.
 */
export function removeEarlierRuns(dir: string): string[] {
  const runs = join(dir, 'runs');
  if (!existsSync(runs) || !statSync(runs).isDirectory()) return [];
  const removed: string[] = [];
  for (const name of readdirSync(runs)) {
    const d = join(runs, name);
    if (statSync(d).isDirectory() && existsSync(join(d, 'run.json'))) {
      rmSync(d, { recursive: true, force: true });
      removed.push(name);
    }
  }
  return removed;
}

/** Write a plot into the report's directory; returns its file name. */
export async function writeReportPlot(dir: string, file: string, spec: PlotSpec): Promise<string> {
  await writePlot(join(dir, file), spec);
  return file;
}

/**
 * report.md, report.html and result.json in `dir` (with `base` 'index': index.md, index.html and
 * index.json); returns the path of the .md.
 */
export function writeReport(dir: string, doc: ReportDoc, result: unknown, base: 'report' | 'index' = 'report'): string {
  ensureReportDir(dir);
  writeJsonAtomic(join(dir, base === 'report' ? 'result.json' : `${base}.json`), result);
  writeTextAtomic(join(dir, `${base}.html`), reportHtml(doc));
  const md = join(dir, `${base}.md`);
  writeTextAtomic(md, reportMarkdown(doc));
  return md;
}

export function reportMarkdown(doc: ReportDoc): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const out = [`# ${doc.title}`, ''];
  for (const b of doc.blocks) {
    switch (b.kind) {
      case 'heading':
        out.push(`## ${b.text}`, '');
        break;
      case 'paragraph':
        out.push(b.text, '');
        break;
      case 'list':
        out.push(...b.items.map((i) => `- ${i}`), '');
        break;
      case 'table':
        out.push(`| ${b.head.map(cell).join(' | ')} |`, `|${b.head.map(() => '---').join('|')}|`, ...b.rows.map((r) => `| ${r.map(cell).join(' | ')} |`), '');
        break;
      case 'image':
        out.push(`![${b.caption}](${b.file})`, '', `*${b.caption}*`, '');
        break;
      case 'code':
        out.push('```', b.text, '```', '');
        break;
    }
  }
  return out.join('\n');
}

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** `code`, **bold** and [text](link) of the inline text, escaped. */
export function inlineHtml(s: string): string {
  return escapeHtml(s)
    .replace(/`([^`]+)`/g, '<code>$1</code>')
    .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>')
    // a link to a report's .md goes to its .html in the browser
    .replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, (_m, text: string, href: string) => `<a href="${href.replace(/\.md$/, '.html')}">${text}</a>`);
}

export function reportHtml(doc: ReportDoc): string {
  const body: string[] = [`<h1>${inlineHtml(doc.title)}</h1>`];
  for (const b of doc.blocks) {
    switch (b.kind) {
      case 'heading':
        body.push(`<h2>${inlineHtml(b.text)}</h2>`);
        break;
      case 'paragraph':
        body.push(`<p>${inlineHtml(b.text)}</p>`);
        break;
      case 'list':
        body.push(`<ul>${b.items.map((i) => `<li>${inlineHtml(i)}</li>`).join('')}</ul>`);
        break;
      case 'table':
        body.push(`<table><thead><tr>${b.head.map((h) => `<th>${inlineHtml(h)}</th>`).join('')}</tr></thead><tbody>` +
          b.rows.map((r) => `<tr>${r.map((c) => `<td>${inlineHtml(c)}</td>`).join('')}</tr>`).join('') + '</tbody></table>');
        break;
      case 'image':
        body.push(`<figure><img src="${escapeHtml(b.file)}" alt="${escapeHtml(b.caption)}"><figcaption>${inlineHtml(b.caption)}</figcaption></figure>`);
        break;
      case 'code':
        body.push(`<pre><code>${escapeHtml(b.text)}</code></pre>`);
        break;
    }
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(doc.title)}</title>
<style>
body { font: 15px/1.5 system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
table { border-collapse: collapse; margin: 1rem 0; } th, td { border: 1px solid #ccc; padding: .3rem .6rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } code { background: #f3f3f3; padding: 0 .2rem; } pre { background: #f6f6f6; padding: .8rem; overflow-x: auto; }
img { max-width: 100%; border: 1px solid #ddd; } figure { margin: 1rem 0; } figcaption { color: #555; font-size: 90%; }
</style></head>
<body>
${body.join('\n')}
</body></html>
`;
}

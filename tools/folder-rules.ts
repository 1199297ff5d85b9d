/**
 * The folder rules of docs/architecture.md, checked: `npm run lint:deps` (the first step of
 * `npm test`). Imports between folders are checked by dependency-cruiser with the rule set below;
 * the rules it cannot express (who may write files, who may tell ffmpeg to write one) are checked
 * here on the TypeScript syntax tree. Each violation names the file, the import and the rule, and
 * the command exits 1 when there is any.
 *
 *   npm run lint:deps            # check this repository
 *   tsx tools/folder-rules.ts D  # check the tree under D (the negative test does this)
 *
 * bench/, test/, tools/ and types/ are exempt: they are never cruised.
 */
import { existsSync, readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cruise, type ICruiseResult, type IForbiddenRuleType } from 'dependency-cruiser';
import ts from 'typescript';

/** The folders (and top-level files) whose rules are checked. */
export const CHECKED = ['engine', 'sources', 'operators', 'media', 'sinks', 'pipelines', 'tui', 'cli', 'events.ts', 'event-codec.ts', 'errors.ts'];

const OURS = '^(engine|sources|operators|media|sinks|pipelines|tui|cli|bench|test|tools)/|^(events|event-codec|errors)\\.ts$';
/** Anyone may import these three; they import only each other. */
const SHARED = '^(events|event-codec|errors)\\.ts$';

/** One rule per folder: whatever of ours it imports must be in its list. */
function folderRule(folder: string, mayImport: string[], comment: string): IForbiddenRuleType {
  return {
    name: `${folder}-imports`,
    comment,
    severity: 'error',
    from: { path: `^${folder}/` },
    to: { path: OURS, pathNot: [`^${folder}/`, ...mayImport.map((f) => `^${f}/`), SHARED] },
  };
}

export const IMPORT_RULES: IForbiddenRuleType[] = [
  folderRule('engine', [], 'engine/ may import nothing else of ours (only events.ts, event-codec.ts, errors.ts)'),
  folderRule('sources', ['engine', 'media'], 'sources/ may import engine/ (types only) and media/ (to decode with ffmpeg); never sinks/, operators/, pipelines/'),
  {
    name: 'sources-engine-types-only',
    comment: 'sources/ may import only types from engine/ (use `import type`), and its seeded generator engine/random.ts',
    severity: 'error',
    from: { path: '^sources/' },
    to: { path: '^engine/', pathNot: '^engine/random\\.ts$', dependencyTypesNot: ['type-only'] },
  },
  {
    name: 'engine-random-is-plain',
    comment: 'engine/random.ts (the seeded generator sources/ use too) imports nothing: no tensors',
    severity: 'error',
    from: { path: '^engine/random\\.ts$' },
    to: { path: '.' },
  },
  folderRule('operators', ['engine'], 'operators/ may import engine/ only'),
  folderRule('media', [], 'media/ imports nothing of ours (only events.ts, event-codec.ts, errors.ts)'),
  folderRule('sinks', ['engine', 'media'], 'sinks/ may import engine/ (for checkpoints) and media/; never sources/, operators/, pipelines/'),
  folderRule('pipelines', ['engine', 'sources', 'operators', 'media', 'sinks'], 'pipelines/ may import engine/, sources/, operators/, media/, sinks/; never tui/ or cli/'),
  folderRule('tui', [], 'tui/ sees events only (events.ts, event-codec.ts, errors.ts)'),
  folderRule('cli', ['pipelines', 'tui'], 'cli/ may import pipelines/, tui/ and its own files (the executor is cli/execute.ts)'),
  {
    name: 'shared-imports',
    comment: 'events.ts, event-codec.ts and errors.ts import only each other',
    severity: 'error',
    from: { path: SHARED },
    to: { path: OURS, pathNot: SHARED },
  },
  {
    name: 'only-engine-imports-tfjs',
    comment: 'only engine/ imports tfjs; everything else sees a Model and Float32Arrays',
    severity: 'error',
    from: { path: '.', pathNot: '^engine/' },
    to: { path: '(^|/)@tensorflow/' },
  },
  {
    name: 'only-media-starts-processes',
    comment: 'media/ is the one place that starts ffmpeg (engine/native/build.mjs, the addon build script, runs node-gyp)',
    severity: 'error',
    from: { path: '.', pathNot: ['^media/', '^engine/native/build\\.mjs$'] },
    to: { path: '^(child_process|fluent-ffmpeg)$|(^|/)fluent-ffmpeg/' },
  },
];

/** `import` is the imported module or name, or for a call the call itself (`kind: 'calls'`). */
export type Violation = { file: string; kind?: 'imports' | 'calls'; import: string; rule: string; why: string };

const FS_MODULES = new Set(['fs', 'node:fs', 'fs/promises', 'node:fs/promises']);
/** node:fs functions that create, change or remove files (open/openSync are checked by their flags). */
const FS_WRITERS = new Set([
  'writeFile', 'writeFileSync', 'appendFile', 'appendFileSync', 'write', 'writeSync', 'writev', 'writevSync',
  'createWriteStream', 'rename', 'renameSync', 'rm', 'rmSync', 'rmdir', 'rmdirSync', 'unlink', 'unlinkSync',
  'mkdir', 'mkdirSync', 'mkdtemp', 'mkdtempSync', 'copyFile', 'copyFileSync', 'cp', 'cpSync',
  'truncate', 'truncateSync', 'ftruncate', 'ftruncateSync', 'symlink', 'symlinkSync', 'link', 'linkSync',
  'chmod', 'chmodSync', 'chown', 'chownSync', 'utimes', 'utimesSync', 'fsync', 'fsyncSync', 'fdatasync', 'fdatasyncSync',
]);
const FS_OPENERS = new Set(['open', 'openSync']);
/** fluent-ffmpeg methods that point ffmpeg at an output file. */
const FFMPEG_FILE_OUTPUTS = new Set(['output', 'addOutput', 'save', 'saveToFile']);

const WRITES = 'only-sinks-write-files';
const WRITES_WHY = 'only sinks/ writes files (create, change, rename or remove)';
const FFMPEG = 'only-sinks-write-with-ffmpeg';
const FFMPEG_WHY = 'outside sinks/ and media/, ffmpeg may only write to a pipe (no runFfmpeg, no .output()/.save() to a file)';

/** The file-writing rules, on one file's syntax tree (`file` relative to the root). */
export function writeViolations(file: string, source: string): Violation[] {
  if (/^(sinks|media)\//.test(file)) return [];
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true, file.endsWith('x') ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  const out: Violation[] = [];
  const openers = new Map<string, string>(); // local name → imported name
  let ffmpegImported = false;
  for (const st of sf.statements) {
    if (!ts.isImportDeclaration(st) || !ts.isStringLiteral(st.moduleSpecifier) || st.importClause?.isTypeOnly) continue;
    const spec = st.moduleSpecifier.text;
    const clause = st.importClause;
    if (FS_MODULES.has(spec)) {
      if (clause?.name || (clause?.namedBindings && ts.isNamespaceImport(clause.namedBindings))) {
        out.push({ file, import: spec, rule: WRITES, why: `import node:fs functions by name so this check can see them; ${WRITES_WHY}` });
      }
      if (clause?.namedBindings && ts.isNamedImports(clause.namedBindings)) {
        for (const el of clause.namedBindings.elements) {
          if (el.isTypeOnly) continue;
          const name = (el.propertyName ?? el.name).text;
          if (FS_WRITERS.has(name) || name === 'promises') out.push({ file, import: `${name} from '${spec}'`, rule: WRITES, why: WRITES_WHY });
          if (FS_OPENERS.has(name)) openers.set(el.name.text, name);
        }
      }
    }
    if (/(^|\/)media\/ffmpeg(\.ts)?$/.test(spec) && clause?.namedBindings && ts.isNamedImports(clause.namedBindings)) {
      for (const el of clause.namedBindings.elements) {
        const name = (el.propertyName ?? el.name).text;
        if (name === 'runFfmpeg' && !el.isTypeOnly) out.push({ file, import: `${name} from '${spec}'`, rule: FFMPEG, why: FFMPEG_WHY });
        if (name === 'ffmpegCommand') ffmpegImported = true;
      }
    }
  }
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node)) {
      const callee = node.expression;
      if (ts.isIdentifier(callee) && openers.has(callee.text) && !readOnlyFlag(node.arguments[1])) {
        const { line } = sf.getLineAndCharacterOfPosition(node.getStart());
        out.push({ file: `${file}:${line + 1}`, kind: 'calls', import: `${openers.get(callee.text)} (flag ${node.arguments[1]?.getText() ?? ''})`, rule: WRITES, why: `${WRITES_WHY}; open files for reading only ('r')` });
      }
      if (ffmpegImported && ts.isPropertyAccessExpression(callee) && FFMPEG_FILE_OUTPUTS.has(callee.name.text)) {
        const { line } = sf.getLineAndCharacterOfPosition(node.getStart());
        out.push({ file: `${file}:${line + 1}`, kind: 'calls', import: `ffmpegCommand(…).${callee.name.text}()`, rule: FFMPEG, why: FFMPEG_WHY });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

function readOnlyFlag(arg: ts.Expression | undefined): boolean {
  if (arg === undefined) return true;
  return ts.isStringLiteralLike(arg) && /^rs?$/.test(arg.text);
}

/** Every violation under `root` (the repository, or a fixture tree in the tests). */
export async function checkFolderRules(root: string): Promise<Violation[]> {
  const roots = CHECKED.filter((p) => existsSync(resolve(root, p)));
  const cwd = process.cwd();
  process.chdir(root); // dependency-cruiser resolves the rules' paths against the working directory
  let result: ICruiseResult;
  try {
    const reported = await cruise(roots, {
      validate: true,
      ruleSet: { forbidden: IMPORT_RULES },
      tsPreCompilationDeps: true,
      doNotFollow: { path: 'node_modules' },
      exclude: { path: '^(bench|test|tools|types)/' },
      baseDir: root,
    }, { extensions: ['.ts', '.tsx', '.mjs', '.js', '.json'] });
    result = reported.output as ICruiseResult;
  } finally {
    process.chdir(cwd);
  }
  const rules = new Map(IMPORT_RULES.map((r) => [r.name, r.comment ?? '']));
  const out: Violation[] = result.summary.violations.map((v) => ({
    file: v.from,
    import: v.to,
    rule: v.rule.name,
    why: rules.get(v.rule.name) ?? '',
  }));
  for (const m of result.modules) {
    if (!/\.(ts|tsx)$/.test(m.source) || m.source.includes('node_modules')) continue;
    out.push(...writeViolations(m.source, readFileSync(resolve(root, m.source), 'utf8')));
  }
  return out;
}

export function formatViolation(v: Violation): string {
  return `${v.file}: ${v.kind ?? 'imports'} ${v.import}\n  breaks ${v.rule}: ${v.why}`;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(process.argv[2] ?? '.');
  const found = await checkFolderRules(root);
  for (const v of found) console.error(formatViolation(v));
  if (found.length > 0) {
    console.error(`\n${found.length} folder-rule violation${found.length === 1 ? '' : 's'} (docs/architecture.md, "Import rules")`);
    process.exit(1);
  }
  console.log(`folder rules hold (${relative(process.cwd(), root) || '.'})`);
}

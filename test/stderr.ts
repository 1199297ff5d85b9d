/**
 * What a CLI's stderr says, for tests. Machines differ in the warnings they print: a fresh machine
 * without the OpenBLAS addon says so on every command that trains, and Node prints its own process
 * warnings (e.g. no fonts for plot labels). None of those is an error, and no test may depend on
 * their absence: a test that wants a clean stderr asks `errorLines(stderr)` to be empty, and one
 * that wants no warning from the run itself looks at `withoutEnvironment(stderr)`.
 */

/** A coded error, an internal error, a JS error name or a stack frame. */
export const ERROR_LINE = /^engram: (E_[A-Z_]+:|internal error)|\b(TypeError|RangeError|ReferenceError|SyntaxError|AssertionError)\b|^\s+at \S.*:\d+:\d+\)?$/;

/** The lines of stderr that report an error. */
export function errorLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => ERROR_LINE.test(l));
}

/** Lines the machine adds, not the run: the fast-path fallback warning and Node's own warnings. */
export const ENVIRONMENT_LINE = /^warning: fast CPU path unavailable|^\(node:\d+\) |^\(Use `node --trace-warnings/;

/** stderr without the environment's lines. */
export function withoutEnvironment(stderr: string): string {
  return stderr.split('\n').filter((l) => !ENVIRONMENT_LINE.test(l)).join('\n');
}

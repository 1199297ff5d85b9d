/** commitOf reads the commit from .git without git: a clone (loose or packed ref, detached HEAD) and a git worktree. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { commitOf } from '../../pipelines/reproduce.ts';

const dir = mkdtempSync(join(tmpdir(), 'engram-commit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const A = 'a'.repeat(40), B = 'b'.repeat(40), C = 'c'.repeat(40);

function file(path: string, text: string) {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
}

describe('commitOf', () => {
  it('reads a loose ref, a packed ref and a detached HEAD of a clone', () => {
    const clone = join(dir, 'clone');
    file(join(clone, '.git/HEAD'), 'ref: refs/heads/main\n');
    file(join(clone, '.git/refs/heads/main'), `${A}\n`);
    expect(commitOf(clone)).toBe(A);
    rmSync(join(clone, '.git/refs/heads/main'));
    file(join(clone, '.git/packed-refs'), `# pack-refs with: peeled\n${B} refs/heads/main\n`);
    expect(commitOf(clone)).toBe(B);
    file(join(clone, '.git/HEAD'), `${C}\n`);
    expect(commitOf(clone)).toBe(C);
  });

  it('follows a worktree\'s .git file to its git directory and the refs in the common one', () => {
    const main = join(dir, 'main'), wt = join(dir, 'wt');
    file(join(main, '.git/HEAD'), 'ref: refs/heads/main\n');
    file(join(main, '.git/refs/heads/feature'), `${A}\n`);
    file(join(main, '.git/worktrees/wt/HEAD'), 'ref: refs/heads/feature\n');
    file(join(main, '.git/worktrees/wt/commondir'), '../..\n');
    file(join(wt, '.git'), `gitdir: ${join(main, '.git/worktrees/wt')}\n`);
    expect(commitOf(wt)).toBe(A);
    expect(commitOf(join(dir, 'nowhere'))).toBeNull();
  });
});

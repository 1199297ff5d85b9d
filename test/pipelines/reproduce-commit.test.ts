import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commitOf } from '../../pipelines/reproduce.ts';
import { tempDirs } from '../fixtures/images.ts';

const tmp = tempDirs('engram-commit-');
const A = 'a'.repeat(40), B = 'b'.repeat(40);

describe('the commit a report names', () => {
  it('is read from a clone, a packed ref, a detached HEAD and a worktree', () => {
    const clone = tmp.freshDir();
    mkdirSync(join(clone, '.git/refs/heads'), { recursive: true });
    writeFileSync(join(clone, '.git/HEAD'), 'ref: refs/heads/main\n');
    writeFileSync(join(clone, '.git/refs/heads/main'), `${A}\n`);
    expect(commitOf(clone)).toBe(A);
    writeFileSync(join(clone, '.git/HEAD'), 'ref: refs/heads/packed\n');
    writeFileSync(join(clone, '.git/packed-refs'), `# pack-refs\n${B} refs/heads/packed\n`);
    expect(commitOf(clone)).toBe(B);
    // a worktree: .git is a file naming its git directory, whose HEAD names a ref of the common one
    const wt = tmp.freshDir();
    mkdirSync(join(clone, '.git/worktrees/wt'), { recursive: true });
    writeFileSync(join(wt, '.git'), `gitdir: ${join(clone, '.git/worktrees/wt')}\n`);
    writeFileSync(join(clone, '.git/worktrees/wt/HEAD'), 'ref: refs/heads/main\n');
    writeFileSync(join(clone, '.git/worktrees/wt/commondir'), '../..\n');
    expect(commitOf(wt)).toBe(A);
    writeFileSync(join(clone, '.git/worktrees/wt/HEAD'), `${B}\n`);
    expect(commitOf(wt)).toBe(B);
    expect(commitOf(tmp.freshDir())).toBeNull();
  });
});

// Counts in words: one helper (src/core/plural.ts, re-exported by src/views/text.ts), and no "file(s)" left in
// what Syncord says.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { listWords, plural } from '../../src/views/text';
import { repoRoot } from './targets/helpers';

describe('plurals', () => {
  it('says "1 file" and "3 files", with a verb when asked, and lists words as a sentence does', () => {
    assert.deepEqual([0, 1, 3].map((n) => plural(n, 'file')), ['0 files', '1 file', '3 files']);
    assert.deepEqual([1, 2].map((n) => plural(n, 'file has', 'files have')), ['1 file has', '2 files have']);
    assert.deepEqual([[], ['a'], ['a', 'b'], ['a', 'b', 'c']].map(listWords), ['', 'a', 'a and b', 'a, b and c']);
  });

  it('leaves no "(s)" plural in a string of src/', () => {
    const SRC = path.join(repoRoot(), 'src');
    const files = (dir: string): string[] =>
      fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
    const found = files(SRC).flatMap((f) =>
      fs
        .readFileSync(f, 'utf8')
        .split('\n')
        .map((line, i) => ({ line, at: `${path.relative(SRC, f)}:${i + 1}` }))
        .filter(({ line }) => !/^\s*(\/\/|\*|\/\*)/.test(line) && /\b(file|path|target|task|message|change|conflict|instance|session|object|link|item)\(s\)/.test(line.replace(/\/\/.*$/, '')))
        .map(({ at, line }) => `${at}: ${line.trim()}`),
    );
    assert.deepEqual(found, []);
  });
});

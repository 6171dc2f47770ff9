// The README's command-line blocks, run as a reader would: in order, as written, on a fresh demo workspace
// (scripts/demo.js, as `node scripts/demo.js <dir>` lays it out). A block runs when the line before its
// opening fence is `<!-- readme-test: runs on a fresh demo, in order -->`. Each line is one `syncord …`
// command (a trailing `\` continues it); what follows an unquoted `#` is a comment, and a comment saying
// `exit N` is the exit code the README promises, else 0.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runSyncord } from './cli/runSyncord';
import { repoRoot } from './targets/helpers';

const MARKER = '<!-- readme-test: runs on a fresh demo, in order -->';

export interface ReadmeCommand {
  /** The line as the README writes it (continuations joined). */
  line: string;
  /** The arguments after `syncord`. */
  args: string[];
  expectedExit: number;
  /** 1-based line in README.md. */
  at: number;
}

/** Splits a shell line into words (single and double quotes, backslash escapes) and its trailing comment. */
export function shellWords(line: string): { words: string[]; comment: string } {
  const words: string[] = [];
  let word: string | undefined;
  let i = 0;
  while (i < line.length) {
    const c = line[i];
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unterminated ' in: ${line}`);
      word = (word ?? '') + line.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      let j = i + 1;
      let s = '';
      while (j < line.length && line[j] !== '"') {
        if (line[j] === '\\' && j + 1 < line.length && '"\\$`'.includes(line[j + 1])) j++;
        else if (line[j] === '$' || line[j] === '`') throw new Error(`expansion in a README command is not run as written: ${line}`);
        s += line[j++];
      }
      if (j >= line.length) throw new Error(`unterminated " in: ${line}`);
      word = (word ?? '') + s;
      i = j + 1;
    } else if (c === '\\' && i + 1 < line.length) {
      word = (word ?? '') + line[i + 1];
      i += 2;
    } else if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
      i++;
    } else if (c === '#' && word === undefined) {
      return { words, comment: line.slice(i + 1).trim() };
    } else if ('|&;<>()$`*?'.includes(c)) {
      throw new Error(`shell syntax "${c}" in a README command is not run as written: ${line}`);
    } else {
      word = (word ?? '') + c;
      i++;
    }
  }
  if (word !== undefined) words.push(word);
  return { words, comment: '' };
}

/** The marked blocks of a README, each a list of commands. */
export function readmeBlocks(text: string): { heading: string; commands: ReadmeCommand[] }[] {
  const lines = text.split('\n');
  const blocks: { heading: string; commands: ReadmeCommand[] }[] = [];
  let heading = '';
  for (let i = 0; i < lines.length; i++) {
    if (/^#{1,6} /.test(lines[i])) heading = lines[i].replace(/^#+ /, '');
    if (lines[i].trim() !== MARKER) continue;
    const fence = lines[i + 1] ?? '';
    if (!/^```(sh|bash)\s*$/.test(fence)) throw new Error(`README.md:${i + 2}: the marker must be followed by a \`\`\`sh block`);
    const commands: ReadmeCommand[] = [];
    let j = i + 2;
    for (; j < lines.length && !lines[j].startsWith('```'); j++) {
      const at = j + 1;
      let line = lines[j];
      while (line.endsWith('\\') && j + 1 < lines.length) line = line.slice(0, -1) + ' ' + lines[++j].trim();
      if (!line.trim()) continue;
      const { words, comment } = shellWords(line);
      if (!words.length) continue;
      if (words[0] !== 'syncord') throw new Error(`README.md:${at}: a command of a marked block must start with syncord: ${line}`);
      const exit = /\bexit (\d+)\b/.exec(comment);
      commands.push({ line: line.trim(), args: words.slice(1), expectedExit: exit ? Number(exit[1]) : 0, at });
    }
    if (j >= lines.length) throw new Error(`README.md:${i + 2}: the block is not closed`);
    blocks.push({ heading, commands });
  }
  return blocks;
}

describe('README', function () {
  this.timeout(300_000);
  const ROOT = repoRoot();
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  let base: string;

  before(() => {
    base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'syncord-readme-')));
  });
  after(() => fs.rmSync(base, { recursive: true, force: true }));

  it('reads the marked blocks as a reader does: quotes, comments, continuations and the promised exit codes', () => {
    assert.deepEqual(shellWords(`syncord --as lead msg reply msg_005 "It's \\"fine\\"" 'a # b'   # exit 5: refused`), {
      words: ['syncord', '--as', 'lead', 'msg', 'reply', 'msg_005', `It's "fine"`, 'a # b'],
      comment: 'exit 5: refused',
    });
    assert.throws(() => shellWords('syncord sync checklist > checklist.md'), /shell syntax ">"/);
    assert.throws(() => shellWords('syncord target tag --version "$(git describe)"'), /expansion/);
    const blocks = readmeBlocks(['## A', MARKER, '```sh', 'syncord a \\', '  b   # exit 1', '', 'syncord c', '```'].join('\n'));
    assert.deepEqual(blocks, [
      { heading: 'A', commands: [{ line: 'syncord a  b   # exit 1', args: ['a', 'b'], expectedExit: 1, at: 4 }, { line: 'syncord c', args: ['c'], expectedExit: 0, at: 7 }] },
    ]);
  });

  it("runs every marked block of README.md in order on a fresh demo, each command with the exit code the README gives", async () => {
    const blocks = readmeBlocks(readme);
    assert.deepEqual(
      blocks.map((b) => b.heading),
      ['Coordinate agents', 'Run agent sessions', 'Keep targets in sync', 'Let the agents sync a target'],
      'the README marks its four command-line blocks',
    );
    // The demo exactly as a reader makes it, in a folder of its own.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const demo = require(path.join(ROOT, 'scripts', 'demo.js')) as { createDemoWorkspace(dir: string): { main: string } };
    const ws = demo.createDemoWorkspace(path.join(base, 'demo'));
    // `syncord trust` records the user's trust under XDG_CONFIG_HOME: a temporary one, never the real one.
    const env = { XDG_CONFIG_HOME: path.join(base, 'config') };
    const ran: string[] = [];
    try {
      for (const block of blocks) {
        for (const c of block.commands) {
          const r = await runSyncord(ws.main, c.args, { env });
          ran.push(`README.md:${c.at} exit ${r.code}: ${c.line}`);
          assert.equal(
            r.code,
            c.expectedExit,
            `README.md:${c.at} (${block.heading}): \`${c.line}\` exited ${r.code}, the README says ${c.expectedExit}\n` +
              `stdout:\n${r.stdout}\nstderr:\n${r.stderr}\nran before it:\n${ran.slice(0, -1).join('\n')}`,
          );
        }
      }
    } finally {
      // Whatever happened, no agent the blocks started outlives the test.
      const live = await runSyncord(ws.main, ['--json', 'agents'], { env });
      const sessions = live.code === 0 ? (JSON.parse(live.stdout) as { sessions: { session_id: string; state: string }[] }).sessions : [];
      for (const s of sessions.filter((x) => x.state !== 'exited')) await runSyncord(ws.main, ['session', 'stop', s.session_id], { env });
    }
  });
});

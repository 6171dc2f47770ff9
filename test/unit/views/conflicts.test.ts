// What the editor offers and says about sync conflicts (src/views/conflicts.ts), and how the Targets tree shows
// a conflict: plain values, no editor needed.
import * as assert from 'node:assert/strict';
import { ContextValue } from '../../../src/views/ids';
import {
  ConflictFacts,
  conflictChoices,
  conflictPickTitle,
  describeOpenMerges,
  describeSettled,
  describeUnfinishedMerge,
  hasConflictMarkers,
  mergeEditorLabels,
} from '../../../src/views/conflicts';
import { buildTree } from '../../../src/views/targets';
import { TARGETS_NOW, targetsConflictSnapshot } from './samples';

const facts = (extra: Partial<ConflictFacts> = {}): ConflictFacts => ({
  path: 'x/docs/guide.md',
  reason: 'both-changed',
  detail: 'changed on both sides; 1 overlapping change',
  hasSource: true,
  text: true,
  ...extra,
});

describe('sync conflicts in the editor', () => {
  it('offers the merge editor, the main project version and the target copy for a text file on both sides', () => {
    assert.deepEqual(
      conflictChoices(facts()).map((c) => [c.choice, c.label]),
      [
        ['merge', 'Open in Merge Editor'],
        ['take-source', "Take the Main Project's Version"],
        ['keep-target', "Keep the Target's Copy"],
      ],
    );
  });

  it('offers only take or keep for a binary file, and for a file the main project deleted (taking it deletes)', () => {
    assert.deepEqual(conflictChoices(facts({ text: false })).map((c) => c.choice), ['take-source', 'keep-target']);
    const deleted = conflictChoices(facts({ hasSource: false, reason: 'deleted-in-source' }));
    assert.deepEqual(deleted.map((c) => c.choice), ['take-source', 'keep-target']);
    assert.match(deleted[0].description, /the target's copy is deleted/);
  });

  it('titles the pick with the file, the target, its place in the list and why it conflicts', () => {
    assert.equal(conflictPickTitle('ComfyUI', facts(), 1, 3), 'Syncord: x/docs/guide.md in ComfyUI (2 of 3): changed on both sides; 1 overlapping change');
    assert.equal(conflictPickTitle('ComfyUI', facts(), 0, 1), 'Syncord: x/docs/guide.md in ComfyUI: changed on both sides; 1 overlapping change');
  });

  it('labels the merge editor: the main project on the left, the target on the right, and says when the base is unknown', () => {
    const known = mergeEditorLabels('ComfyUI', 'x/docs/guide.md', 'docs/guide.md', true);
    assert.deepEqual([known.input1.title, known.input1.description], ['Main project', 'docs/guide.md']);
    assert.deepEqual([known.input2.title, known.input2.description], ['Target', 'ComfyUI: x/docs/guide.md']);
    assert.equal(known.baseNote, 'Base (as last synced)');
    const unknown = mergeEditorLabels('ComfyUI', 'x/docs/guide.md', 'docs/guide.md', false);
    assert.equal(unknown.baseNote, 'Base (none known, empty)');
    assert.match(unknown.input1.detail, /base is empty/);
  });

  it('finds the conflict markers a merge leaves at the start of a line, and nothing else', () => {
    assert.equal(hasConflictMarkers('a\n<<<<<<< main project\nb\n=======\nc\n>>>>>>> target\n'), true);
    assert.equal(hasConflictMarkers('a\r\n>>>>>>>\r\n'), true);
    assert.equal(hasConflictMarkers('<<<<<<<'), true);
    assert.equal(hasConflictMarkers('merged\ntext\n'), false);
    assert.equal(hasConflictMarkers('quote: <<<<<<< not at the start\n'), false);
    assert.equal(hasConflictMarkers('<<<<<<<<< eight or more is not a marker\n'), false);
    assert.equal(hasConflictMarkers('=======\n'), false, 'a Markdown underline alone is not a marker');
  });

  it('says what a settlement wrote, and what is left', () => {
    assert.match(describeSettled('ComfyUI', 'x/docs/guide.md', 'merge'), /^Settled x\/docs\/guide\.md in ComfyUI: the merged text is written to the target;/);
    assert.match(describeSettled('ComfyUI', 'x/a.md', 'take-source', true), /the target's copy is deleted, as in the main project/);
    assert.match(describeSettled('ComfyUI', 'x/a.md', 'keep-target'), /the target's copy is kept/);
    assert.match(describeUnfinishedMerge('x/a.md', '/ws/.syncord/tmp/merge/ComfyUI/1/a.md'), /nothing was written to the target.*kept in \/ws\/\.syncord\/tmp\/merge\/ComfyUI\/1\/a\.md/);
    assert.equal(describeOpenMerges('ComfyUI', 1, 2, 1), 'ComfyUI: 2 conflicts settled, 1 merge editor open (complete the merge to write it to the target), 1 conflict left for later.');
  });

  it('shows a conflicting file in the tree with its target path, a menu of its own and the target as conflicting', () => {
    const tree = buildTree(targetsConflictSnapshot(), TARGETS_NOW);
    const root = tree.get('target:portable')!;
    assert.equal(root.contextValue, `${ContextValue.targets.target}:conflict`);
    assert.match(root.description!, /^conflicts to settle · /);
    const row = tree.children('target:portable/changes/docs').find((n) => n.label === 'guide.md')!;
    assert.deepEqual(
      [row.description, row.contextValue, row.targetPath, row.target],
      ['conflict · docs', ContextValue.targets.conflictFile, 'python_embeded/Lib/site-packages/opencode/docs/guide.md', 'portable'],
    );
    assert.match(row.tooltip!, /^docs\/guide\.md\nconflict: needs your choice: changed on both sides; 1 overlapping change\nIn portable: python_embeded\/Lib\/site-packages\/opencode\/docs\/guide\.md\n/);
    // A click compares the target's copy with the main project's file.
    assert.deepEqual(row.diff, {
      targetFile: '/ws/targets/portable/python_embeded/Lib/site-packages/opencode/docs/guide.md',
      sourceFile: '/ws/main/docs/guide.md',
      title: 'guide.md: portable ↔ main project',
    });
  });
});

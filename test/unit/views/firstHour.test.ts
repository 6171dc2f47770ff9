// What a new user meets in the first hour, checked on the pure view models: words that count right, tree rows that
// fit a side bar of the default width, status-bar texts that cannot be mistaken for VS Code's own, a Message Log
// whose replies close the wait, and palette titles that tell one-target from all-target commands.
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { replyToMessage, sendMessage } from '../../../src/core/coordination/messages';
import { buildThreads } from '../../../src/core/coordination/threads';
import type { Message } from '../../../src/core/coordination/schemas';
import { DEFAULT_RULES } from '../../../src/core/targets/rules';
import { componentsFor, TargetInfo, TargetsSnapshot } from '../../../src/core/targets/overview';
import type { TargetStatus } from '../../../src/core/targets/status';
import { ClickCommand } from '../../../src/views/ids';
import { threadPage, threadView } from '../../../src/views/messageLog';
import { countText, repliesText, requiresResponseByDefault, waitedFor, waitingBadge } from '../../../src/views/messageLogText';
import { coordinationStatusBarView, spokenText, targetsStatusBarView } from '../../../src/views/statusBar';
import { buildTree } from '../../../src/views/targets';
import { clip, clipPath, DESCRIPTION_BUDGET, plural } from '../../../src/views/text';
import { workspace } from '../coordination/helpers';
import { seed, TARGETS_NOW, targetsConflictSnapshot, targetsSnapshot } from './samples';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const NOW = Date.parse('2026-02-27T12:00:00Z');

/** A target with long names everywhere: the rows must still say the important part first and within the budget. */
function longSnapshot(): TargetsSnapshot {
  const name = 'ComfyUI_windows_portable';
  const status: TargetStatus = {
    name,
    path: '',
    absPath: '',
    type: 'site-packages',
    status: 'conflict',
    reason: `2 files changed on both sides need your choice (syncord sync run --target ${name} --take-source|--keep-target)`,
    since: 'abc',
    changes: [
      { status: 'M', path: 'docs/providers/anthropic/configuration-reference.md', categories: ['docs'], action: 'update', targetPath: 'python_embeded/Lib/site-packages/opencode/docs/providers/anthropic/configuration-reference.md' },
      { status: 'A', path: 'docs/a-new-page.md', categories: ['docs'], action: 'add', targetPath: 'python_embeded/Lib/site-packages/opencode/docs/a-new-page.md' },
      { status: 'D', path: 'docs/old.md', categories: ['docs'], action: 'delete', targetPath: 'python_embeded/Lib/site-packages/opencode/docs/old.md' },
      { status: 'M', path: 'docs/guide.md', categories: ['docs'], action: 'merge', targetPath: 'python_embeded/Lib/site-packages/opencode/docs/guide.md' },
      { status: 'U', path: 'docs/both.md', categories: ['docs'], action: 'conflict', targetPath: 'python_embeded/Lib/site-packages/opencode/docs/both.md', detail: 'changed on both sides; 1 overlapping change' },
      { status: 'M', path: 'opencode.toml', categories: ['config'], action: 'config', targetPath: 'opencode.toml' },
      { status: 'A', path: 'src/opencode/provider/anthropic_extended_thinking.py', categories: ['provider'], action: 'changed' },
    ],
    categories: ['docs', 'provider'],
    kept: [],
    notApplicable: [],
  };
  const info: TargetInfo = {
    target: { name, path: `../targets/${name}`, absPath: `/ws/targets/${name}`, type: 'site-packages', last_sync: '2026-02-25T06:00:00Z', sync_version: 'v1.2.2-rc.1+build.20260225', status: 'needs_sync' },
    status,
    components: componentsFor(DEFAULT_RULES, 'site-packages'),
    backups: [{ id: '20260227T110000000Z-ab12', target: name, created: '2026-02-27T11:00:00Z', reason: 'pre-sync', partial: true, components: ['docs', 'rag', 'plans', 'readme', 'mission'], files: 1234, bytes: 300, newObjects: 3, newBytes: 300 }],
    verify: {
      at: '2026-02-20T11:58:00Z',
      last_sync: '2026-02-20T00:00:00Z',
      result: {
        target: name,
        passed: false,
        checks: [{ name: 'links', status: 'fail', detail: '126 Markdown files checked, 14 broken links in 9 files', problems: [{ file: `/ws/targets/${name}/python_embeded/Lib/site-packages/opencode/docs/providers/index.md`, line: 127, message: 'broken link: missing.md' }] }],
      },
    },
  };
  return { root: '/ws/main', registryFile: '/ws/main/coordination/targets.json', registryExists: true, targets: [info], rules: DEFAULT_RULES, errors: [] };
}

describe('the first hour: words and rows a new user reads', () => {
  it('counts in words with one helper: singular for one, the plural otherwise', () => {
    assert.equal(plural(1, 'message'), '1 message');
    assert.equal(plural(0, 'message'), '0 messages');
    assert.equal(plural(2, 'reply', 'replies'), '2 replies');
    assert.equal(plural(10_003, 'message'), '10003 messages');
    assert.equal(countText(1, 1, 1), '1 thread · 1 message');
    assert.equal(countText(3, 3, 7), '3 threads · 7 messages');
    assert.equal(countText(50, 10_001, 10_003), '50 of 10001 threads · 10003 messages');
    assert.equal(countText(0, 0, 0), '0 threads · 0 messages');
    assert.deepEqual([repliesText(1), repliesText(2)], ['1 reply', '2 replies']);
  });

  it('cuts texts and paths to a budget, saying so with "…"', () => {
    assert.equal(clip('short'), 'short');
    assert.equal(clip('x'.repeat(41)).length, 40);
    assert.ok(clip('x'.repeat(41)).endsWith('…'));
    assert.equal(clipPath('python_embeded/Lib/site-packages/opencode/docs', 30), '…/site-packages/opencode/docs');
    assert.equal(clipPath('docs', 30), 'docs');
    assert.equal(clipPath('a-very-long-single-segment-name.md', 12).length, 12);
  });

  it('keeps every Targets row description within the budget of a 300 px side bar', () => {
    const trees = [buildTree(targetsSnapshot(), TARGETS_NOW), buildTree(targetsConflictSnapshot(), TARGETS_NOW), buildTree(longSnapshot(), NOW), buildTree(longSnapshot(), NOW, new Map([['ComfyUI_windows_portable', 'Syncing']]))];
    const long = trees.flatMap((t) => t.all()).filter((n) => (n.description ?? '').length > DESCRIPTION_BUDGET);
    assert.deepEqual(long.map((n) => `${n.id}: ${n.description}`), []);
    // The details moved to the tooltip rather than vanishing.
    const tree = trees[2];
    const root = tree.get('target:ComfyUI_windows_portable')!;
    assert.equal(root.description, 'conflicts to settle · synced 2d 6h ago');
    assert.match(root.tooltip!, /Last sync: 2026-02-25T06:00:00Z \(v1\.2\.2-rc\.1\+build\.20260225\)/);
    assert.match(root.tooltip!, /Status: conflicts to settle — 2 files changed on both sides need your choice \(syncord sync run/);
    const changes = tree.get('target:ComfyUI_windows_portable/changes')!;
    assert.equal(changes.description, '7 files · 3 categories');
    const checks = tree.get('target:ComfyUI_windows_portable/checks')!;
    assert.equal(checks.description, '1 of 1 check failed · 7d ago · outdated');
    assert.match(checks.tooltip as string, /Ran before the last sync: it counts neither in the status nor in the Problems panel\./);
    const backup = tree.children('target:ComfyUI_windows_portable/backups')[0];
    assert.equal(backup.description, 'pre-sync (partial) · 1234 files');
    assert.equal(tree.get('target:ComfyUI_windows_portable/checks/links')!.description, 'fail · 126 Markdown files checked, 14 b…');
  });

  it('names a pending file by its name, says what the sync does first, and opens the diff on click', () => {
    const tree = buildTree(longSnapshot(), NOW);
    const docs = tree.children('target:ComfyUI_windows_portable/changes/docs');
    const byLabel = new Map(docs.map((n) => [n.label, n]));
    const update = byLabel.get('configuration-reference.md')!;
    assert.equal(update.description, 'update · docs/providers/anthropic');
    assert.match(update.tooltip!, /^docs\/providers\/anthropic\/configuration-reference\.md\nto update\nIn ComfyUI_windows_portable: python_embeded\//);
    assert.deepEqual(update.click, { command: ClickCommand.openPendingDiff, title: 'Open Changes', with: 'node' });
    assert.deepEqual(update.diff, {
      targetFile: '/ws/targets/ComfyUI_windows_portable/python_embeded/Lib/site-packages/opencode/docs/providers/anthropic/configuration-reference.md',
      sourceFile: '/ws/main/docs/providers/anthropic/configuration-reference.md',
      title: 'configuration-reference.md: ComfyUI_windows_portable ↔ main project',
    });
    // A file to add is not in the target yet (an empty left side); a file to delete is gone from the main project.
    assert.deepEqual(byLabel.get('a-new-page.md')!.diff, { targetFile: undefined, sourceFile: '/ws/main/docs/a-new-page.md', title: 'a-new-page.md: not in ComfyUI_windows_portable yet ↔ main project' });
    assert.deepEqual(byLabel.get('old.md')!.diff, {
      targetFile: '/ws/targets/ComfyUI_windows_portable/python_embeded/Lib/site-packages/opencode/docs/old.md',
      sourceFile: undefined,
      title: 'old.md: ComfyUI_windows_portable ↔ deleted in the main project',
    });
    assert.deepEqual(byLabel.get('old.md')!.click?.command, ClickCommand.openPendingDiff);
    assert.equal(byLabel.get('guide.md')!.description, 'merge · docs');
    assert.equal(byLabel.get('both.md')!.description, 'conflict · docs');
    assert.equal(byLabel.get('both.md')!.click?.command, ClickCommand.openPendingDiff);
    // A config file is merged key by key, not copied: its click shows the merge the sync would write.
    const config = tree.all().find((n) => n.label === 'opencode.toml' && n.kind === 'changedFile')!;
    assert.deepEqual([config.description, config.diff, config.click], ['config merge', undefined, { command: ClickCommand.showConfigDiff, title: 'Show Config Diff', with: 'node' }]);
    // A change no component copies has nothing in the target to compare with: the file opens.
    const changed = tree.all().find((n) => n.label === 'anthropic_extended_thinking.py')!;
    assert.deepEqual([changed.description, changed.diff, changed.click?.command], ['changed · src/opencode/provider', undefined, ClickCommand.openFile]);
  });

  it('shows the coordination status-bar item under Syncord\'s name, without zeros, and says it cleanly to a screen reader', () => {
    const snap = seed();
    const none = coordinationStatusBarView(snap, { me: 'instance-3', problems: 0, brokenFiles: 0, busy: false });
    assert.equal(none.text, '$(comment-discussion) Syncord');
    const both = coordinationStatusBarView(snap, { me: 'instance-1', problems: 7, brokenFiles: 0, busy: false });
    assert.equal(both.text, '$(comment-discussion) Syncord: 1 unread · 7 issues');
    assert.doesNotMatch(both.text, /\$\((error|warning)\)/, 'the icons of VS Code\'s own problem counts');
    assert.equal(coordinationStatusBarView(snap, { me: 'instance-1', problems: 1, brokenFiles: 0, busy: false }).text, '$(comment-discussion) Syncord: 1 unread · 1 issue');
    assert.equal(both.accessibilityLabel, 'Syncord coordination. 1 message waiting for instance-1. 7 coordination problems (see the Problems panel). Activate to open the Message Log.');
    const busy = coordinationStatusBarView(snap, { me: undefined, problems: 0, brokenFiles: 0, busy: true });
    assert.equal(busy.accessibilityLabel, 'Syncord coordination. Writing coordination files… Set syncord.instanceId to see the messages waiting for you. No coordination problems. Activate to open the Message Log.');
    for (const v of [none, both, busy]) {
      assert.doesNotMatch(v.accessibilityLabel, /\.\s*\.|\s{2}|\$\(/, `stray punctuation or icon ids in "${v.accessibilityLabel}"`);
    }
  });

  it('speaks the targets status-bar item with its name, and keeps VS Code\'s warning icon out of a count', () => {
    const snap = targetsSnapshot();
    const v = targetsStatusBarView(snap);
    assert.doesNotMatch(v.accessibilityLabel, /\.\s*\.|\$\(/);
    assert.match(v.accessibilityLabel, /^Syncord targets: .+\. Activate to sync all targets or pick one\.$/);
    assert.equal(spokenText(['One', '', 'Two.', '$(sync) Three', '  ']), 'One. Two. Three.');
  });

  it('lets a user without syncord.instanceId reply, acknowledge and close (asked who they are when they do)', () => {
    const messages: Message[] = [
      { message_id: 'msg_001', from: 'instance-2', to: 'instance-1', type: 'question', timestamp: '2026-02-27T11:00:00Z', subject: 'Q', message: '?', requires_response: true, status: 'pending_response' },
      { message_id: 'msg_002', from: 'instance-3', to: 'all', type: 'info', timestamp: '2026-02-27T11:30:00Z', subject: 'FYI', message: '!', requires_response: false, status: 'sent' },
    ];
    const page = threadPage(buildThreads({ messages, response_queue: [] }), {}, 0, 50, { now: NOW, totalMessages: 2, replace: true });
    assert.equal(page.now, NOW, 'the page carries the clock its ages were computed with');
    const [fyi, q] = page.threads;
    assert.deepEqual([q.root.canReply, q.root.canAck, q.canClose], [true, false, true]);
    assert.deepEqual([fyi.root.canReply, fyi.root.canAck], [true, true]);
    // With an instance id the rules of the protocol apply as before.
    const asOther = threadView(buildThreads({ messages, response_queue: [] })[0], NOW, 'instance-5');
    assert.deepEqual([asOther.root.canReply, asOther.canClose], [false, false]);
  });

  it('gives the webview the timestamps to renew ages from, and says "just now" rather than "1s"', () => {
    const messages: Message[] = [
      { message_id: 'msg_001', from: 'instance-2', to: 'instance-1', type: 'question', timestamp: '2026-02-27T11:59:59Z', subject: 'Q', message: '?', requires_response: true, status: 'pending_response' },
    ];
    const [t] = threadPage(buildThreads({ messages, response_queue: [] }), {}, 0, 50, { now: NOW, me: 'instance-1', totalMessages: 1, replace: true }).threads;
    assert.deepEqual([t.waitingAge, t.waitingSince, t.root.age], ['just now', '2026-02-27T11:59:59Z', 'just now']);
    assert.equal(waitingBadge(t.waitingSince, NOW + 5 * 60_000), 'Waiting for a response · 5m');
    assert.equal(waitingBadge(t.waitingSince, NOW + 3 * 3_600_000), 'Waiting for a response · 3h');
    assert.equal(waitedFor('not a time', NOW), undefined);
    assert.equal(waitingBadge(undefined, NOW), 'Waiting for a response');
  });

  it('starts a reply without "Requires a response", so answering a question ends its wait', async () => {
    assert.equal(requiresResponseByDefault('reply', 'consultation_request', 'instance-2'), false);
    assert.equal(requiresResponseByDefault('new', 'consultation_request', 'instance-2'), true);
    assert.equal(requiresResponseByDefault('new', 'question', 'all'), false);
    assert.equal(requiresResponseByDefault('new', 'info', 'instance-2'), false);
    const ws = await workspace({ now: '2024-01-15T11:30:00Z' });
    try {
      const asked = await sendMessage(ws.store, { from: 'instance-2', to: 'instance-1', subject: 'Ports?', body: 'Which port?', type: 'question' });
      await replyToMessage(ws.store, { id: asked.message.message_id, from: 'instance-1', body: '8080', requiresResponse: requiresResponseByDefault('reply', 'question', 'instance-2') });
      const { messages } = await ws.store.read('messages');
      const thread = buildThreads(messages).find((t) => t.root.message_id === asked.message.message_id)!;
      const view = threadView(thread, Date.parse('2024-01-15T12:00:00Z'), 'instance-2');
      assert.equal(view.waiting, false, 'the thread still waits for a response after its answer');
      assert.equal(view.waitingAge, undefined);
      assert.equal(view.replies[0].waiting, false);
      assert.equal(view.root.status, 'responded');
    } finally {
      ws.dispose();
    }
  });

  it('gives the one-target and the all-targets sync commands titles that differ, the one-target one first in the palette', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    const commands = manifest.contributes.commands as { command: string; title: string; category: string }[];
    const title = (id: string) => commands.find((c) => c.command === id)!.title;
    assert.equal(title('syncord.syncTarget'), 'Sync One Target…');
    assert.equal(title('syncord.syncAllTargets'), 'Sync Targets (All at Once)…');
    // The palette lists commands it has not run yet by their full label, alphabetically: typing "sync target"
    // matches both, and the one-target command comes first.
    const labels = commands.filter((c) => /^Sync\b/.test(c.title) && /target/i.test(c.title)).map((c) => `${c.category}: ${c.title}`);
    const sorted = [...labels].sort((a, b) => a.localeCompare(b));
    assert.deepEqual(sorted, ['Syncord: Sync One Target…', 'Syncord: Sync Targets (All at Once)…']);
  });
});

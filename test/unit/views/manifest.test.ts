// package.json and src/views must agree: every view id, every contextValue a menu's `when` clause names or
// matches, and every command a click on a row runs. A rename on one side only fails here instead of leaving a
// menu that never shows.
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { buildTreeModel } from '../../../src/views/coordination';
import { ClickCommand, ContextValue, ViewId } from '../../../src/views/ids';
import { buildSessionsTree } from '../../../src/views/sessions';
import { buildTree } from '../../../src/views/targets';
import type { TreeModel } from '../../../src/views/tree';
import { seed, seedWithTasksOf, sessionsSample, TARGETS_NOW, targetsAgentsSnapshot, targetsConflictSnapshot, targetsSnapshot } from './samples';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

interface Menu {
  command: string;
  when?: string;
}

/** Rows that have no menu of their own: they only show something. */
const WITHOUT_MENU = [
  'syncord.fileMissing',
  'syncord.target.category',
  'syncord.target.changedFile',
  'syncord.target.components',
  'syncord.target.check.pass',
  'syncord.target.check.fail',
  'syncord.target.check.skipped',
  'syncord.target.agents.open',
  'syncord.target.agentStep',
  'syncord.session.exited.terminal',
  'syncord.sessions.undelivered',
  'syncord.sessions.error',
];

function values(...trees: TreeModel[]): Set<string> {
  return new Set(trees.flatMap((t) => t.all().map((n) => n.contextValue)));
}

/** The contextValues each tree shows, from trees with every kind of row. */
function contextValuesByView(): Map<string, Set<string>> {
  const now = Date.parse('2024-01-15T12:00:00Z');
  const broken = seed();
  broken.tasks = { state: 'invalid', file: '/ws/coordination/task-queue.json', message: 'bad', line: 1, column: 1 };
  broken.messages = { state: 'invalid', file: '/ws/coordination/communication-log.json', message: 'bad', line: 1, column: 1 };
  broken.decisions = { state: 'missing', file: '/ws/coordination/decisions.json' };
  const s = sessionsSample();
  return new Map([
    [ViewId.coordination, values(buildTreeModel(seedWithTasksOf('instance-1'), { now, me: 'instance-1' }), buildTreeModel(broken, { now }))],
    [ViewId.targets, values(buildTree(targetsSnapshot(), TARGETS_NOW), buildTree(targetsConflictSnapshot(), TARGETS_NOW), buildTree(targetsAgentsSnapshot(), TARGETS_NOW))],
    [ViewId.sessions, values(buildSessionsTree(s.sessions, s.undelivered, s.here, { message: 'sessions.json cannot be read', file: '/ws/coordination/sessions.json' }))],
  ]);
}

/** `view == X`, `viewItem == X` and `viewItem =~ /re/` of a when clause. */
function parseWhen(when: string): { view?: string; equals: string[]; patterns: RegExp[] } {
  const view = /\bview\s*==\s*([\w.-]+)/.exec(when)?.[1];
  const equals = [...when.matchAll(/\bviewItem\s*==\s*([\w.:-]+)/g)].map((m) => m[1]);
  const patterns = [...when.matchAll(/\bviewItem\s*=~\s*\/((?:\\.|[^/])*)\/([a-z]*)/g)].map((m) => new RegExp(m[1], m[2]));
  return { view, equals, patterns };
}

const itemMenus = (): (Menu & ReturnType<typeof parseWhen>)[] =>
  (manifest.contributes.menus['view/item/context'] as Menu[]).map((m) => ({ ...m, ...parseWhen(m.when ?? '') }));

describe('package.json and the views agree', () => {
  it('declares exactly the views of src/views/ids.ts', () => {
    const declared = Object.values(manifest.contributes.views as Record<string, { id: string }[]>).flatMap((list) => list.map((v) => v.id));
    assert.deepEqual([...declared].sort(), Object.values(ViewId).sort());
    const known = new Set<string>(Object.values(ViewId));
    for (const [where, list] of Object.entries(manifest.contributes.menus as Record<string, Menu[]>)) {
      for (const m of list) {
        const v = parseWhen(m.when ?? '').view;
        if (v) assert.ok(known.has(v), `${where} ${m.command}: "view == ${v}" names no view of src/views/ids.ts`);
      }
    }
    for (const w of manifest.contributes.viewsWelcome as { view: string }[]) assert.ok(known.has(w.view), `viewsWelcome names ${w.view}`);
  });

  it('names in every item menu a contextValue its tree shows, and matches something with every pattern', () => {
    const byView = contextValuesByView();
    for (const m of itemMenus()) {
      assert.ok(m.view, `${m.command}: an item menu without "view == …"`);
      const shown = byView.get(m.view!);
      assert.ok(shown, `${m.command}: ${m.view} has no tree`);
      for (const v of m.equals) assert.ok(shown!.has(v), `${m.command}: "viewItem == ${v}" matches no row of ${m.view} (rows: ${[...shown!].join(', ')})`);
      for (const re of m.patterns) assert.ok([...shown!].some((v) => re.test(v)), `${m.command}: ${re} matches no row of ${m.view}`);
      assert.ok(m.equals.length + m.patterns.length > 0, `${m.command}: an item menu that names no contextValue`);
    }
  });

  it('gives every contextValue the trees show a menu, except the rows meant to have none', () => {
    const byView = contextValuesByView();
    const menus = itemMenus();
    const without: string[] = [];
    for (const [view, shown] of byView) {
      for (const v of shown) {
        const matched = menus.some((m) => m.view === view && (m.equals.includes(v) || m.patterns.some((re) => re.test(v))));
        if (!matched) without.push(v);
      }
    }
    assert.deepEqual(without.sort(), [...WITHOUT_MENU].sort());
  });

  it('uses every contextValue of src/views/ids.ts in its tree (no stale constant)', () => {
    const byView = contextValuesByView();
    const trees = { coordination: ViewId.coordination, targets: ViewId.targets, sessions: ViewId.sessions } as const;
    for (const [tree, table] of Object.entries(ContextValue) as [keyof typeof trees, Record<string, string>][]) {
      const shown = [...byView.get(trees[tree])!];
      for (const [key, value] of Object.entries(table)) {
        assert.ok(
          shown.some((v) => v === value || v.startsWith(`${value}.`) || v.startsWith(`${value}:`)),
          `ContextValue.${tree}.${key} (${value}) is shown by no row`,
        );
      }
    }
  });

  it('contributes every command a click on a row runs', () => {
    const commands = new Set((manifest.contributes.commands as { command: string }[]).map((c) => c.command));
    for (const id of Object.values(ClickCommand)) if (!id.startsWith('vscode.')) assert.ok(commands.has(id), `${id} is not in contributes.commands`);
  });
});

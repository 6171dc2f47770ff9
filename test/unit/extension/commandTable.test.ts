// The command table (src/shared/commands.ts) and package.json must agree: a command contributed but never
// registered fails when clicked, one registered but not contributed has no title, a menu naming an unknown id
// never shows, and a command that needs a tree row must not be offered in the command palette.
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { Command, VIEW_ONLY_COMMANDS } from '../../../src/shared/commands';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const contributes = manifest.contributes as {
  commands: { command: string; title: string; category?: string }[];
  menus: Record<string, { command?: string; when?: string }[]>;
  keybindings?: { command: string }[];
};
const table = new Set<string>(Object.values(Command));

describe('the command table and package.json', () => {
  it('lists each id once', () => {
    assert.equal(table.size, Object.values(Command).length);
    const contributed = contributes.commands.map((c) => c.command);
    assert.equal(new Set(contributed).size, contributed.length, 'package.json contributes a command twice');
  });

  it('contributes every command of the table, and nothing else, with a title in the Syncord category', () => {
    const contributed = new Set(contributes.commands.map((c) => c.command));
    assert.deepEqual([...table].filter((id) => !contributed.has(id)), [], 'in the table but not in contributes.commands');
    assert.deepEqual([...contributed].filter((id) => !table.has(id)), [], 'in contributes.commands but not in the table');
    for (const c of contributes.commands) {
      assert.ok(c.title.trim(), `${c.command} has no title`);
      assert.equal(c.category, 'Syncord', `${c.command} is not in the Syncord category`);
    }
  });

  it('names only commands of the table in its menus and keybindings', () => {
    const named = [
      ...Object.entries(contributes.menus).flatMap(([menu, items]) => items.filter((i) => i.command).map((i) => ({ where: menu, id: i.command! }))),
      ...(contributes.keybindings ?? []).map((k) => ({ where: 'keybindings', id: k.command })),
    ];
    assert.ok(named.length > 40, `only ${named.length} menu entries found`);
    assert.deepEqual(named.filter((n) => !table.has(n.id)), []);
  });

  it('hides exactly the view-only commands from the command palette', () => {
    const palette = contributes.menus.commandPalette ?? [];
    const hidden = palette.filter((p) => p.when === 'false').map((p) => p.command);
    assert.deepEqual([...hidden].sort(), [...VIEW_ONLY_COMMANDS].sort());
    // A view-only command is also offered somewhere: a row's menu, a view's title bar or a click on a row.
    const offered = new Set(
      Object.entries(contributes.menus)
        .filter(([menu]) => menu !== 'commandPalette')
        .flatMap(([, items]) => items.map((i) => i.command)),
    );
    const clickedOrStatusBar: string[] = [Command.revealInFile, Command.openCoordinationFileAt, Command.openTargetLocation, Command.openPendingDiff, Command.targetsStatusMenu];
    for (const id of VIEW_ONLY_COMMANDS) assert.ok(offered.has(id) || clickedOrStatusBar.includes(id), `${id} is hidden from the palette and offered nowhere`);
  });
});

describe('registerAllCommands', () => {
  const BUNDLE = path.join(ROOT, 'dist', 'extension.js');

  /** A stand-in for anything of `vscode` the bundle touches: every property and call yields another stand-in. */
  function standIn(): unknown {
    const fn = function () {
      /* stand-in */
    };
    return new Proxy(fn, {
      get: (_t, prop) => (prop === 'then' ? undefined : prop === Symbol.iterator ? function* () {} : standIn()),
      set: () => true,
      apply: () => standIn(),
      construct: () => standIn() as object,
    });
  }

  it('registers every command of the table once, each with a disposable handed to the extension context', () => {
    if (!fs.existsSync(BUNDLE)) assert.fail(`${BUNDLE} is missing: build with \`node esbuild.js\` first`);
    const registered: string[] = [];
    const disposables = new Set<object>();
    const commands = new Proxy(
      {},
      {
        get: (_t, prop) =>
          prop === 'registerCommand'
            ? (id: string, handler: unknown) => {
                assert.equal(typeof handler, 'function');
                registered.push(id);
                const d = { dispose() {} };
                disposables.add(d);
                return d;
              }
            : standIn(),
      },
    );
    const names = new Set([...fs.readFileSync(BUNDLE, 'utf8').matchAll(/\bvscode\d*\.([A-Za-z_$][\w$]*)/g)].map((m) => m[1]));
    const vscode: Record<string, unknown> = {};
    for (const n of names) vscode[n] = n === 'commands' ? commands : standIn();
    const Module = require('module') as { _load: (request: string, ...rest: unknown[]) => unknown };
    const originalLoad = Module._load;
    Module._load = function (request: string, ...rest: unknown[]) {
      return request === 'vscode' ? vscode : originalLoad.call(this, request, ...rest);
    };
    const context = {
      subscriptions: [] as unknown[],
      extensionUri: standIn(),
      extension: { packageJSON: { version: '0.0.0' } },
      globalState: standIn(),
      workspaceState: standIn(),
    };
    try {
      delete require.cache[BUNDLE];
      (require(BUNDLE) as { activate(ctx: unknown): unknown }).activate(context);
    } finally {
      Module._load = originalLoad;
      delete require.cache[BUNDLE];
    }
    assert.deepEqual([...registered].sort(), [...table].sort());
    const kept = context.subscriptions.filter((d) => disposables.has(d as object));
    assert.equal(kept.length, registered.length, 'a command registration is not in context.subscriptions');
    for (const d of context.subscriptions) (d as { dispose?: () => void }).dispose?.();
  });
});

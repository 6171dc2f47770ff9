import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';

/**
 * Activation must stay cheap: the built extension's activate() reads no files and starts no process (no git).
 * The bundle is loaded with a stand-in `vscode` module whose every property and call yields another stand-in,
 * and with `fs`, `fs/promises` and `child_process` wrapped so that every call the bundle makes is recorded.
 */

// Tests run from the project root (npm test, mocha).
const BUNDLE = path.resolve(process.cwd(), 'dist', 'extension.js');

function standIn(name: string): unknown {
  const fn = function () {
    /* stand-in */
  };
  return new Proxy(fn, {
    get(_t, prop) {
      if (prop === Symbol.toPrimitive) return () => `[${name}]`;
      if (prop === 'then') return undefined; // not a promise
      if (prop === Symbol.iterator) return function* () {};
      return standIn(`${name}.${String(prop)}`);
    },
    set: () => true,
    apply: () => standIn(`${name}()`),
    construct: () => standIn(`new ${name}`) as object,
  });
}

/**
 * The bundle copies the `vscode` module's own keys into a namespace object, so the stand-in module lists
 * every name the bundle uses (`vscode3.window`, ...) as its own keys.
 */
function vscodeModule(bundle: string): object {
  const names = new Set([...bundle.matchAll(/\bvscode\d*\.([A-Za-z_$][\w$]*)/g)].map((m) => m[1]));
  const mod: Record<string, unknown> = {};
  for (const n of names) mod[n] = standIn(`vscode.${n}`);
  return mod;
}

/** A copy of a module whose functions record their calls (while `recording.on`) before doing the real work. */
function recorded(mod: Record<string, unknown>, label: string, calls: string[], recording: { on: boolean }): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(mod)) {
    const value = mod[key];
    if (key === 'promises' && value && typeof value === 'object') {
      copy[key] = recorded(value as Record<string, unknown>, `${label}.promises`, calls, recording);
    } else if (typeof value === 'function' && !/^[A-Z]/.test(key)) {
      copy[key] = function (this: unknown, ...args: unknown[]) {
        if (recording.on) calls.push(`${label}.${key}(${String(args[0])})`);
        return (value as (...a: unknown[]) => unknown).apply(mod, args);
      };
    } else copy[key] = value;
  }
  return copy;
}

describe('extension activation', () => {
  it('activate() reads no files and runs no process', async function () {
    if (!fs.existsSync(BUNDLE)) assert.fail(`${BUNDLE} is missing: build with \`node esbuild.js\` first`);
    const calls: string[] = [];
    const recording = { on: false };
    const wrapped = new Map<string, unknown>();
    const Module = require('module') as { _load: (request: string, ...rest: unknown[]) => unknown };
    const originalLoad = Module._load;
    Module._load = function (request: string, ...rest: unknown[]) {
      const name = request.replace(/^node:/, '');
      if (name === 'vscode') return vscodeModule(fs.readFileSync(BUNDLE, 'utf8'));
      if (name === 'fs' || name === 'fs/promises' || name === 'child_process') {
        if (!wrapped.has(name)) wrapped.set(name, recorded(originalLoad.call(this, request, ...rest) as Record<string, unknown>, name, calls, recording));
        return wrapped.get(name);
      }
      return originalLoad.call(this, request, ...rest);
    };
    // The bundle and the chunks it shares with the CLI (dist/chunks) are loaded afresh, through the wrapped modules.
    const forgetBundle = () => {
      for (const f of Object.keys(require.cache)) if (f.startsWith(path.dirname(BUNDLE) + path.sep)) delete require.cache[f];
    };
    try {
      forgetBundle();
      const ext = require(BUNDLE) as { activate(ctx: unknown): unknown };
      assert.ok(wrapped.has('fs') && wrapped.has('child_process'), 'the bundle loads fs and child_process (the core uses them)');
      const context = {
        subscriptions: [] as unknown[],
        extensionUri: standIn('extensionUri'),
        extension: { packageJSON: { version: '0.0.0' } },
        globalState: standIn('globalState'),
        workspaceState: standIn('workspaceState'),
      };
      recording.on = true;
      ext.activate(context);
      // Let anything activate() queued without a timer (promises, setImmediate) run too.
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setImmediate(r));
      recording.on = false;
      assert.deepEqual(calls, [], `activate() touched the file system or started a process:\n${calls.join('\n')}`);
      assert.ok(context.subscriptions.length > 5, 'activate() registered its commands and views as disposables');
      for (const d of context.subscriptions) (d as { dispose?: () => void }).dispose?.();
    } finally {
      recording.on = false;
      Module._load = originalLoad;
      forgetBundle();
    }
  });
});

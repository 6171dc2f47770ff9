// The layers import one way: extension → views → core. The core holds no presentation and knows neither the
// views nor the webview's messages; the views know no editor API. (A tsconfig with only Node's types keeps
// editor globals out, but an explicit `import 'vscode'` would still compile: hence this check.)
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';

const SRC = path.resolve(__dirname, '..', '..', '..', '..', 'src');

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

/** Every module a file imports (import … from, import(…), require(…)), resolved to a path under src/ when relative. */
function importsOf(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:from\s+|import\s*\(\s*|require\s*\(\s*)['"]([^'"]+)['"]/g)].map((m) => m[1]);
  return specs.map((s) => (s.startsWith('.') ? path.relative(SRC, path.resolve(path.dirname(file), s)).split(path.sep).join('/') : s));
}

function offenders(layer: string, forbidden: (spec: string) => boolean): string[] {
  return sources(path.join(SRC, layer)).flatMap((f) => importsOf(f).filter(forbidden).map((s) => `${path.relative(SRC, f)} imports ${s}`));
}

/** The import cycles among the files of src/ (each as the list of files around it), by depth-first search. */
function importCycles(): string[][] {
  const files = new Set(sources(SRC).map((f) => path.relative(SRC, f).split(path.sep).join('/')));
  const resolve = (spec: string) => [`${spec}.ts`, `${spec}/index.ts`].find((f) => files.has(f));
  const edges = new Map([...files].map((f) => [f, importsOf(path.join(SRC, f)).map(resolve).filter((x): x is string => !!x)]));
  const cycles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (f: string) => {
    state.set(f, 'open');
    stack.push(f);
    for (const g of edges.get(f) ?? []) {
      if (state.get(g) === 'open') cycles.push([...stack.slice(stack.indexOf(g)), g]);
      else if (!state.has(g)) visit(g);
    }
    stack.pop();
    state.set(f, 'done');
  };
  for (const f of files) if (!state.has(f)) visit(f);
  return cycles;
}

describe('views: layers', () => {
  it('has no import cycle anywhere in src/', () => {
    assert.deepEqual(importCycles().map((c) => c.join(' → ')), []);
  });

  it('keeps the core free of the editor, the views, the extension and the webview protocol', () => {
    assert.deepEqual(offenders('core', (s) => s === 'vscode' || /^(views|extension|shared|webview|cli)\//.test(s)), []);
  });

  it('keeps the views free of the editor and the extension', () => {
    assert.deepEqual(offenders('views', (s) => s === 'vscode' || /^(extension|webview|cli)\//.test(s)), []);
  });

  it('finds an import it forbids (the check itself works)', () => {
    assert.deepEqual(
      importsOf(path.join(SRC, 'extension', 'treeItem.ts')).filter((s) => s === 'vscode' || s.startsWith('views/')),
      ['vscode', 'views/tree'],
    );
  });
});

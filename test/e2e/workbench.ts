// Helpers for end-to-end tests: the real VS Code workbench (code-server) with the built Syncord
// installed, on a fresh fixture workspace, driven by headless Chromium through playwright-core.
//
// Typical test (see workbench.test.ts):
//
//   describe('my feature', () => {
//     const wb = useWorkbench({ fixture: 'demo' });   // one server + browser for the describe block
//     it('shows something', async () => {
//       await wb().openContainer('Syncord');
//       assert.deepEqual(await wb().viewRows('Coordination'), [...]);
//       await wb().screenshot('my-feature');
//     });
//   });
//
// Fixture names are those of scripts/demo.js (FIXTURES): `demo`, `demo-no-coordination`,
// `demo-no-targets`, `empty`. `wb().ws` tells where the workspace is (root, folder, targets).
// The extension under test is the built package (the files `vsce ls` lists) copied into the
// server's extensions folder as syncord.syncord-<version>, as a .vsix install would lay it out;
// run `node esbuild.js` first (npm test does).
//
// Everything the run writes lives in a temp folder removed by stop(); screenshots go to
// test-output/screenshots/, and a failing test leaves FAILED-<test title>.png there.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { BrowserContext, FrameLocator, Locator, Page } from 'playwright-core';

/** The project root (this file is compiled to out/test/e2e/). */
export const ROOT = findRoot(__dirname);
export const SCREENSHOTS = path.join(ROOT, 'test-output', 'screenshots');

function findRoot(start: string): string {
  for (let d = start; d !== path.dirname(d); d = path.dirname(d)) {
    const pkg = path.join(d, 'package.json');
    if (fs.existsSync(pkg) && JSON.parse(fs.readFileSync(pkg, 'utf8')).name === 'syncord') return d;
  }
  throw new Error(`cannot find the Syncord package above ${start}`);
}

// The plain-JS scripts shared with `npm start` and the integration runner.
interface Server {
  url: string;
  host: string;
  port: number;
  userDataDir: string;
  logFile: string;
  workbenchUrl(folder?: string, payload?: [string, string][]): string;
  extensionHostLogs(): string[];
  stop(): Promise<void>;
}
interface FixtureWorkspace {
  root: string;
  folder: string;
  main: string;
  coordinationDir?: string;
  targets: Record<string, string>;
  commits: { sha: string; date: string; message: string }[];
}
/* eslint-disable @typescript-eslint/no-require-imports */
const vscodeServer = require(path.join(ROOT, 'scripts', 'vscode-server.js')) as {
  startServer(o: {
    runDir: string;
    folder: string;
    extensions?: string[];
    trust?: boolean;
    settings?: Record<string, unknown>;
    env?: Record<string, string>;
    exactEnv?: boolean;
  }): Promise<Server>;
  removeOnExit(dir: string): () => void;
};
const browser = require(path.join(ROOT, 'scripts', 'browser.js')) as {
  launchChromium(o: { runDir: string; viewport?: { width: number; height: number } }): Promise<BrowserContext>;
};
const demo = require(path.join(ROOT, 'scripts', 'demo.js')) as {
  createFixture(name: string, dir: string): FixtureWorkspace;
};
/* eslint-enable @typescript-eslint/no-require-imports */

export interface TreeRow {
  label: string;
  description: string;
  level: number;
  expanded: boolean | undefined;
}

export interface WorkbenchOptions {
  /** Fixture workspace to open (scripts/demo.js FIXTURES); default `demo`. */
  fixture?: string;
  /** false: workspace trust on, the folder opens in Restricted Mode. Default true (trusted). */
  trust?: boolean;
  /** Extra user settings. */
  settings?: Record<string, unknown>;
  /** Browser viewport; default 1400×900. */
  viewport?: { width: number; height: number };
  /**
   * Extra environment for the server, which its extension host and everything started from it inherit
   * (e.g. a PATH with the fake agent runtimes of test/fixtures/runtimes/bin first).
   */
  env?: Record<string, string>;
}

/** Generous waits: they only bound how long a broken UI is waited for, they assert no speed. */
export const UI_TIMEOUT = 30_000;
const START_TIMEOUT = 90_000;

let packagedFiles: string[] | undefined;

/**
 * Copies exactly what the .vsix ships (the files `vsce ls` lists: package.json, dist/, media/,
 * schemas/, README, LICENSE; see .vscodeignore) into `dest`.
 */
export function stageExtension(dest: string): string {
  if (!fs.existsSync(path.join(ROOT, 'dist', 'extension.js'))) {
    throw new Error('dist/extension.js is missing: build with `node esbuild.js` first');
  }
  if (!packagedFiles) {
    const vsce = require.resolve('@vscode/vsce/vsce', { paths: [ROOT] });
    const out = execFileSync(process.execPath, [vsce, 'ls', '--no-dependencies'], { cwd: ROOT, encoding: 'utf8' });
    packagedFiles = out.split('\n').map((l) => l.trim()).filter((l) => l && fs.existsSync(path.join(ROOT, l)));
    if (!packagedFiles.includes('package.json')) throw new Error(`vsce ls listed no package.json:\n${out}`);
  }
  for (const f of packagedFiles) {
    fs.mkdirSync(path.dirname(path.join(dest, f)), { recursive: true });
    fs.copyFileSync(path.join(ROOT, f), path.join(dest, f));
  }
  return dest;
}

export class Workbench {
  private constructor(
    readonly page: Page,
    readonly context: BrowserContext,
    readonly server: Server,
    readonly ws: FixtureWorkspace,
    private readonly runDir: string,
  ) {}

  /** Starts code-server with Syncord on a fresh fixture workspace and opens it in Chromium. */
  static async start(options: WorkbenchOptions = {}): Promise<Workbench> {
    const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'syncord-e2e-'));
    // Removed by stop(), or when the test process ends some other way (Ctrl-C).
    vscodeServer.removeOnExit(runDir);
    let server: Server | undefined;
    let context: BrowserContext | undefined;
    try {
      const ws = demo.createFixture(options.fixture ?? 'demo', path.join(runDir, 'ws'));
      const extension = stageExtension(path.join(runDir, 'extension'));
      server = await vscodeServer.startServer({
        runDir: path.join(runDir, 'server'),
        folder: ws.folder,
        extensions: [extension],
        trust: options.trust,
        settings: options.settings,
        env: options.env,
        // What the test sets must reach the extension host as given (not replaced by a login shell's PATH).
        exactEnv: Boolean(options.env),
      });
      context = await browser.launchChromium({ runDir, viewport: options.viewport });
      context.setDefaultTimeout(UI_TIMEOUT);
      const page = context.pages()[0] ?? (await context.newPage());
      const wb = new Workbench(page, context, server, ws, runDir);
      await page.goto(server.workbenchUrl(ws.folder));
      await wb.waitForWorkbench();
      return wb;
    } catch (e) {
      await context?.close().catch(() => undefined);
      await server?.stop();
      fs.rmSync(runDir, { recursive: true, force: true });
      throw e;
    }
  }

  /** Waits until the workbench is laid out (activity bar and status bar visible). */
  async waitForWorkbench(): Promise<void> {
    await this.page.locator('.monaco-workbench .part.activitybar').waitFor({ state: 'visible', timeout: START_TIMEOUT });
    await this.page.locator('.monaco-workbench .part.statusbar').waitFor({ state: 'visible', timeout: START_TIMEOUT });
  }

  /**
   * Runs a command from the command palette by its full title as the palette shows it,
   * e.g. `Syncord: Initialize Coordination`.
   */
  async runCommand(title: string): Promise<void> {
    const input = this.page.locator('.quick-input-widget input.input');
    // Focus the workbench (not a webview) so F1 reaches it.
    await this.page.locator('.monaco-workbench .part.statusbar').click({ position: { x: 5, y: 5 } });
    await this.page.keyboard.press('F1');
    await input.waitFor({ state: 'visible' });
    await input.fill(`>${title}`);
    const row = this.page
      .locator('.quick-input-widget .monaco-list-row')
      .filter({ has: this.page.locator('.label-name', { hasText: exact(labelOf(title)) }) })
      .first();
    await row.waitFor({ state: 'visible' });
    await row.click();
    await input.waitFor({ state: 'hidden' });
  }

  /** The activity-bar entry of a view container, by its title (e.g. `Syncord`). */
  activityBarItem(title: string): Locator {
    return this.page.locator(`.part.activitybar .action-item a[aria-label^="${title}"]`);
  }

  /** Opens a view container from the activity bar (no-op when it is already showing). */
  async openContainer(title: string): Promise<void> {
    const item = this.activityBarItem(title);
    await item.waitFor({ state: 'visible' });
    const selected = await item.locator('xpath=..').getAttribute('class');
    if (!selected?.split(/\s+/).includes('checked')) await item.click();
    await this.page
      .locator('.part.sidebar .composite.title h2', { hasText: new RegExp(`^${escapeRegExp(title)}$`, 'i') })
      .waitFor({ state: 'visible' });
  }

  /** A view's pane (header + body) in the side bar or panel, by the view's name (e.g. `Targets`). */
  view(name: string): Locator {
    return this.page.locator('.pane').filter({
      has: this.page.locator('.pane-header h3.title', { hasText: exact(name) }),
    });
  }

  /** Expands a view's pane when it is collapsed. */
  async expandView(name: string): Promise<Locator> {
    const pane = this.view(name);
    const header = pane.locator('.pane-header').first();
    await header.waitFor({ state: 'visible' });
    if ((await header.getAttribute('aria-expanded')) === 'false') await header.click();
    return pane;
  }

  /** The welcome content of a view (its empty state), e.g. `wb.welcome('Targets')`. */
  welcome(name: string): Locator {
    return this.view(name).locator('.welcome-view-content');
  }

  /** The tree rows of a view as locators. */
  rows(name: string): Locator {
    return this.view(name).locator('.monaco-list-row[role="treeitem"]');
  }

  /**
   * The visible tree rows of a view, top to bottom: label, description, depth (1 = top level) and
   * whether the row is expanded (undefined for leaves). Waits for at least `min` rows.
   */
  async viewItems(name: string, min = 0): Promise<TreeRow[]> {
    const rows = this.rows(name);
    if (min > 0) await rows.nth(min - 1).waitFor({ state: 'visible' });
    return rows.evaluateAll((els) =>
      els.map((el) => {
        const text = (sel: string) => (el.querySelector(sel)?.textContent ?? '').replace(/\s+/g, ' ').trim();
        const expanded = el.getAttribute('aria-expanded');
        return {
          label: text('.label-name') || (el as HTMLElement).innerText.replace(/\s+/g, ' ').trim(),
          description: text('.label-description'),
          level: Number(el.getAttribute('aria-level') ?? '1'),
          expanded: expanded === null ? undefined : expanded === 'true',
        };
      }),
    );
  }

  /** The visible rows of a view as "label description" strings (see viewItems). */
  async viewRows(name: string, min = 0): Promise<string[]> {
    return (await this.viewItems(name, min)).map((r) => (r.description ? `${r.label} ${r.description}` : r.label));
  }

  /**
   * Waits until `condition` holds, polling; for UI that settles asynchronously (a view refreshing
   * after a file change). Throws naming `what` after `timeout`.
   */
  async waitUntil(condition: () => Promise<boolean> | boolean, what: string, timeout = UI_TIMEOUT): Promise<void> {
    const deadline = Date.now() + timeout;
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error(`timed out after ${timeout / 1000} s waiting for ${what}`);
      await this.page.waitForTimeout(100);
    }
  }

  /**
   * Opens a row's context menu and runs the item with this label (highlighted, then Enter), until what the
   * item opens (`opened`) shows. A context menu closes without running anything when the window re-lays out
   * under it (a tree refresh from a file an agent just wrote, a toast); a person would open it again, and so
   * does this — each retry is printed, so a menu that never works still fails here.
   */
  async contextMenu(row: Locator, label: string, opened: Locator): Promise<void> {
    const item = this.page.locator('.context-view .monaco-menu .action-item').filter({ hasText: label }).first();
    let attempt = 0;
    await this.waitUntil(async () => {
      if (await opened.isVisible()) return true;
      if (attempt++ > 0) {
        console.log(`      (the context menu item "${label}" opened nothing; opening the menu again, attempt ${attempt})`);
        await this.page.keyboard.press('Escape');
      }
      try {
        await row.click({ button: 'right' });
        await item.waitFor({ state: 'visible', timeout: 5_000 });
        await item.hover();
        await this.page.locator('.context-view .monaco-menu .action-item.focused', { hasText: label }).waitFor({ state: 'visible', timeout: 5_000 });
        await this.page.keyboard.press('Enter');
        await item.waitFor({ state: 'hidden', timeout: 5_000 });
        await opened.waitFor({ state: 'visible', timeout: 5_000 });
      } catch {
        // Looked at again at the top of the next round.
      }
      return opened.isVisible();
    }, `"${label}" from the context menu to open what it opens`);
  }

  /** Runs a palette command that goes on with a quick pick of its own (runCommand waits for the palette to close). */
  async startCommand(title: string): Promise<void> {
    const widget = this.page.locator('.quick-input-widget');
    await this.page.locator('.monaco-workbench .part.statusbar').click({ position: { x: 5, y: 5 } });
    await this.page.keyboard.press('F1');
    await widget.locator('input.input').fill(`>${title}`);
    await widget.locator('.monaco-list-row', { hasText: title }).first().click();
  }

  /** Opens the Message Log from the palette (after Syncord's side bar, as a user would) and returns its frame. */
  async openMessageLog(): Promise<FrameLocator> {
    await this.openContainer('Syncord');
    await this.runCommand('Syncord: Open Message Log');
    const frame = this.webviewFrame();
    await frame.locator('#threads').waitFor({ state: 'attached' });
    return frame;
  }

  /** A thread of the Message Log, by its subject. */
  static thread(frame: FrameLocator, subject: string): Locator {
    return frame.locator('article.thread').filter({ has: frame.locator('h3.subject', { hasText: subject }) });
  }

  /** Notification toasts, optionally only those whose text matches. */
  notifications(text?: string | RegExp): Locator {
    const toasts = this.page.locator('.notifications-toasts .notification-toast');
    return text ? toasts.filter({ hasText: text }) : toasts;
  }

  /**
   * Waits for a notification toast with this text and returns its full text. Fails at once, with
   * the dialog's text, when VS Code shows an error dialog instead (e.g. "command … not found").
   */
  async waitForNotification(text: string | RegExp, timeout = UI_TIMEOUT): Promise<string> {
    const toast = this.notifications(text).first();
    const dialog = this.page.locator('.monaco-dialog-box');
    const deadline = Date.now() + timeout;
    for (;;) {
      if (await toast.isVisible()) return (await toast.innerText()).replace(/\s+/g, ' ').trim();
      if (await dialog.isVisible()) {
        throw new Error(`expected a notification matching ${String(text)}, but VS Code shows a dialog: ${(await dialog.innerText()).replace(/\s+/g, ' ').trim()}`);
      }
      if (Date.now() > deadline) {
        const shown = (await this.notifications().allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
        throw new Error(`no notification matching ${String(text)} within ${timeout / 1000} s; showing: ${JSON.stringify(shown)}`);
      }
      await this.page.waitForTimeout(100);
    }
  }

  /** The content frame of the visible webview (e.g. the Message Log). */
  webviewFrame(): FrameLocator {
    return this.page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');
  }

  /** Saves a PNG of the whole window to test-output/screenshots/<name>.png and returns its path. */
  async screenshot(name: string): Promise<string> {
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    const file = path.join(SCREENSHOTS, `${slug(name)}.png`);
    await this.page.screenshot({ path: file });
    return file;
  }

  /** Closes the browser, stops the server (its whole process group) and removes the run folder. */
  async stop(): Promise<void> {
    await this.context.close().catch(() => undefined);
    await this.server.stop();
    fs.rmSync(this.runDir, { recursive: true, force: true });
  }
}

/**
 * Registers mocha hooks that start one workbench before the tests of the enclosing `describe` and
 * stop it after them; a failing test leaves a screenshot. Returns an accessor for the workbench.
 */
export function useWorkbench(options: WorkbenchOptions = {}): () => Workbench {
  let wb: Workbench | undefined;
  before(async function () {
    this.timeout(START_TIMEOUT * 2);
    wb = await Workbench.start(options);
  });
  afterEach(async function () {
    if (wb && this.currentTest?.state === 'failed') {
      await wb.screenshot(`FAILED-${this.currentTest.fullTitle()}`).catch(() => undefined);
    }
  });
  after(async function () {
    this.timeout(30_000);
    await wb?.stop();
    wb = undefined;
  });
  return () => {
    if (!wb) throw new Error('the workbench did not start (see the "before all" hook error)');
    return wb;
  };
}

function labelOf(title: string): string {
  // The palette shows "Category: Title"; the label holds the whole string.
  return title;
}

function exact(text: string): RegExp {
  return new RegExp(`^\\s*${escapeRegExp(text)}\\s*$`, 'i');
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function slug(s: string): string {
  return s.replace(/[^\w.-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 120);
}

// Lays out the demo workspace from the committed template in demo/ (see demo/README.md):
//
//   <dir>/opencode_4py/                 main project, a git repo with dated commits (the folder to open)
//   <dir>/opencode_4py/coordination/    coordination files + targets.json + sync-rules.jsonc (opencode_4py preset)
//   <dir>/opencode_4py/.vscode/settings.json   the stand-in agent for instances named demo-*, and "act as lead"
//   <dir>/targets/ComfyUI_windows_portable/   site-packages target, last synced before the latest docs commit
//   <dir>/targets/simple_python_app/          source target, up to date
//
// The demo (`npm start`, `node scripts/demo.js <dir>`) is dated relative to the moment it is laid out: its
// coordination files (demo/coordination/*.json) hold a few days of work whose times are written as
// "{now-2d3h}" and become real times here; the commits and last syncs move by the same amount.
// The test fixtures (FIXTURES below, for the integration and e2e tests) use the example coordination files of
// test/fixtures/seed004 with their fixed 2024 dates instead, and fixed commit dates: `{ example: 'seed' }`.
//
// Used by `npm start` (scripts/start.js), the integration runner and the e2e tests.
//   node scripts/demo.js <dir> [--no-coordination] [--no-targets-registry]
'use strict';

const childProcess = require('child_process');
const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const TEMPLATE = path.join(ROOT, 'demo');
const SEED004 = path.join(ROOT, 'test', 'fixtures', 'seed004');
const COORDINATION_FILES = ['instance-registry.json', 'task-queue.json', 'communication-log.json', 'decisions.json'];
/** The sync rules of the demo's main project, the opencode_4py preset: `syncord sync rules --init --preset opencode_4py`. */
const SYNC_RULES = path.join(TEMPLATE, 'coordination', 'sync-rules.jsonc');
/** The stand-in agent of the tests (test/fixtures/runtimes), which the demo's `demo-*` instances run. */
const STAND_IN_AGENT = path.join(ROOT, 'test', 'fixtures', 'runtimes', 'bin', 'claude');
/** When the fixed dates of demo/commits.json end: the demo moves them so that this is two hours ago. */
const TEMPLATE_NOW = Date.parse('2026-02-27T11:00:00Z');

/** `2026-02-27T09:00:00Z` form (whole seconds), as the coordination files write times. */
function iso(ms) {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/**
 * Replaces every "{now}", "{now-2d3h}", "{now+40m}" in the template text with that time relative to `now`
 * (d days, h hours, m minutes). Anything else in braces is left alone.
 */
function datesRelativeTo(text, now) {
  const UNIT = { d: 86_400_000, h: 3_600_000, m: 60_000 };
  return text.replace(/\{now(?:([+-])((?:\d+[dhm])+))?\}/g, (_, sign, span) => {
    let offset = 0;
    for (const [, n, unit] of (span ?? '').matchAll(/(\d+)([dhm])/g)) offset += Number(n) * UNIT[unit];
    return iso(now + (sign === '-' ? -offset : offset));
  });
}

/**
 * The demo's .vscode/settings.json: instances named demo-* run the stand-in agent (so sessions can be tried
 * without claude or opencode installed), and VS Code acts as `lead`. Kept out of the demo's git history
 * (.git/info/exclude), so target change detection ignores it.
 */
function addDemoSettings(main) {
  const agent = STAND_IN_AGENT;
  const settings = {
    'syncord.instanceId': 'lead',
    'syncord.sessions.runtimes': {
      'demo-agent': {
        command: [agent, '--session-id', '{session}', '{prompt}'],
        headless: [agent, '--print', '--session-id', '{session}', '{prompt}'],
        send: [agent, '--print', '--resume', '{session}', '{prompt}'],
        install: 'it is the stand-in agent in test/fixtures/runtimes of the Syncord checkout',
      },
    },
    'syncord.sessions.runtimeMap': { 'demo-*': 'demo-agent', '*opencode*': 'opencode', '*claude*': 'claude' },
  };
  fs.mkdirSync(path.join(main, '.vscode'), { recursive: true });
  fs.writeFileSync(path.join(main, '.vscode', 'settings.json'), JSON.stringify(settings, null, 2) + '\n');
  fs.appendFileSync(path.join(main, '.git', 'info', 'exclude'), '.vscode/\n');
}

/** Git with a fixed identity and no user/system config, so the demo is the same on every machine. */
function git(cwd, args, date) {
  const env = {
    ...process.env,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_AUTHOR_NAME: 'Demo Maintainer',
    GIT_AUTHOR_EMAIL: 'maintainer@opencode-4py.example',
    GIT_COMMITTER_NAME: 'Demo Maintainer',
    GIT_COMMITTER_EMAIL: 'maintainer@opencode-4py.example',
  };
  if (date) {
    env.GIT_AUTHOR_DATE = date;
    env.GIT_COMMITTER_DATE = date;
  }
  const r = childProcess.spawnSync('git', args, { cwd, env, encoding: 'utf8' });
  if (r.error) throw new Error(`git is needed to lay out the demo workspace: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`git ${args.join(' ')} failed in ${cwd}:\n${r.stderr}`);
  return r.stdout;
}

function copyInto(src, dest) {
  fs.cpSync(src, dest, { recursive: true, force: true });
}

/**
 * Creates the demo workspace in `dir` (which must not exist or be empty).
 *
 * options:
 *   coordination     (default true)  create <main>/coordination with the coordination files and the sync rules
 *   targetsRegistry  (default true)  write <main>/coordination/targets.json registering both targets
 *   example          (default 'live') 'live': the demo's coordination files (demo/coordination), every date
 *                    relative to `now`, and the stand-in agent's settings; 'seed': the example files of
 *                    test/fixtures/seed004 as they are, fixed commit dates, no settings (the test fixtures)
 *   now              (default Date.now()) the moment the live demo is laid out, in ms
 *
 * Returns { root, main, coordinationDir, targets: { [name]: absolutePath }, commits: [{ sha, date, message }] }.
 */
function createDemoWorkspace(dir, options = {}) {
  const withCoordination = options.coordination !== false;
  const withRegistry = withCoordination && options.targetsRegistry !== false;
  const live = (options.example ?? 'live') === 'live';
  if (!['live', 'seed'].includes(options.example ?? 'live')) throw new Error(`unknown demo example "${options.example}" (live or seed)`);
  const now = options.now ?? Date.now();
  // The live demo moves every fixed date of commits.json by the same amount: its last commit is recent.
  const shift = live ? Math.floor((now - TEMPLATE_NOW) / 60_000) * 60_000 : 0;
  const moved = (date) => iso(Date.parse(date) + shift);
  const plan = JSON.parse(fs.readFileSync(path.join(TEMPLATE, 'commits.json'), 'utf8'));
  for (const c of plan.commits) c.date = moved(c.date);
  for (const t of plan.targets) t.last_sync = moved(t.last_sync);
  const root = path.resolve(dir);
  if (fs.existsSync(root) && fs.readdirSync(root).length) throw new Error(`${root} is not empty`);
  const main = path.join(root, plan.mainProject);
  const targetsDir = path.join(root, 'targets');
  fs.mkdirSync(main, { recursive: true });
  fs.mkdirSync(targetsDir, { recursive: true });

  const targets = {};
  for (const t of plan.targets) {
    targets[t.name] = path.join(targetsDir, t.name);
    copyInto(path.join(TEMPLATE, 'targets', t.name), targets[t.name]);
  }

  git(main, ['init', '-q', '-b', 'main']);
  const commits = [];
  for (const c of plan.commits) {
    copyInto(path.join(TEMPLATE, 'main', c.overlay), main);
    git(main, ['add', '-A']);
    git(main, ['commit', '-q', '--no-gpg-sign', '--no-verify', '-m', c.message], c.date);
    commits.push({ sha: git(main, ['rev-parse', 'HEAD']).trim(), date: c.date, message: c.message, overlay: c.overlay });
    if (c.tag) git(main, ['tag', '-a', c.tag, '-m', `opencode_4py ${c.tag}`], c.date);
    // A target synced at this point gets the docs as they were then.
    for (const t of plan.targets.filter((x) => x.syncedAfter === c.overlay && x.copyTo)) {
      const dest = path.join(targets[t.name], t.copyTo);
      for (const entry of ['docs', 'plans', 'RAG', 'README.md', 'MISSION.md']) {
        copyInto(path.join(main, entry), path.join(dest, entry));
      }
    }
  }

  const coordinationDir = path.join(main, 'coordination');
  if (withCoordination) {
    fs.mkdirSync(coordinationDir, { recursive: true });
    for (const f of COORDINATION_FILES) {
      if (live) fs.writeFileSync(path.join(coordinationDir, f), datesRelativeTo(fs.readFileSync(path.join(TEMPLATE, 'coordination', f), 'utf8'), now));
      else fs.copyFileSync(path.join(SEED004, f), path.join(coordinationDir, f));
    }
    fs.copyFileSync(SYNC_RULES, path.join(coordinationDir, 'sync-rules.jsonc'));
    if (withRegistry) {
      const registry = {
        targets: plan.targets.map((t) => ({
          name: t.name,
          path: path.relative(main, targets[t.name]).split(path.sep).join('/'),
          type: t.type,
          last_sync: t.last_sync,
          sync_version: t.sync_version,
          status: t.status,
          // Extra field (the seed's shape allows them): the main-project commit it was synced from.
          last_sync_commit: commits.find((c) => c.overlay === t.syncedAfter).sha,
        })),
      };
      fs.writeFileSync(path.join(coordinationDir, 'targets.json'), JSON.stringify(registry, null, 2) + '\n');
    }
    git(main, ['add', '-A']);
    const date = moved('2026-02-27T09:00:00Z');
    const message = 'Add agent coordination files and the target registry';
    git(main, ['commit', '-q', '--no-gpg-sign', '--no-verify', '-m', message], date);
    commits.push({ sha: git(main, ['rev-parse', 'HEAD']).trim(), date, message });
  }

  if (live) addDemoSettings(main);
  return { root, main, coordinationDir, targets, commits };
}

/** The test fixtures lay out the example coordination files with their fixed dates (what their tests assert on). */
const SEED = { example: 'seed' };

/**
 * Named workspaces for the integration and e2e tests. Each returns { root, folder, ... } where
 * `folder` is what VS Code opens. Add a new one here when a test needs another starting state.
 */
const FIXTURES = {
  /** The full demo: git history, two targets, coordination folder with the example files and targets.json. */
  demo: (dir) => withFolder(createDemoWorkspace(dir, SEED)),
  /** The demo's main project and targets, but no coordination folder (so no targets.json either). */
  'demo-no-coordination': (dir) => withFolder(createDemoWorkspace(dir, { ...SEED, coordination: false })),
  /** Coordination folder with the example files but no targets.json. */
  'demo-no-targets': (dir) => withFolder(createDemoWorkspace(dir, { ...SEED, targetsRegistry: false })),
  /** The demo exactly as `npm start` and `node scripts/demo.js` lay it out (dated now; the README's pictures). */
  'demo-live': (dir) => withFolder(createDemoWorkspace(dir)),
  /**
   * The full demo again, for the agent-session tests: a workspace of their own, since sessions leave
   * sessions.json, agent logs and git worktrees behind that other suites' change detection would see.
   */
  'demo-sessions': (dir) => withFolder(createDemoWorkspace(dir, SEED)),
  /**
   * The full demo again, for the merge editor (test/integration/targetsConflicts.test.ts): a workbench of its
   * own, with no editors, dialogs or pending saves left by the other targets tests.
   */
  'demo-conflicts': (dir) => withFolder(createDemoWorkspace(dir, SEED)),
  /**
   * The full demo again, for the syncs carried out by agents (test/integration/agentSync.test.ts): the tasks and
   * messages they add would shift the ids and statuses the other suites expect.
   */
  'demo-agentsync': (dir) => withFolder(createDemoWorkspace(dir, SEED)),
  /** The full demo once more, for the sessions with the real Claude Code (test/integration/realAgents.test.ts). */
  'demo-agents': (dir) => withFolder(createDemoWorkspace(dir, SEED)),
  /** An empty folder that is not a git repository. */
  empty: (dir) => {
    const folder = path.join(path.resolve(dir), 'empty-project');
    fs.mkdirSync(folder, { recursive: true });
    return { root: path.resolve(dir), folder, main: folder, targets: {}, commits: [] };
  },
};

function withFolder(ws) {
  return { ...ws, folder: ws.main };
}

/** Lays out the named fixture workspace in `dir`; throws on an unknown name. */
function createFixture(name, dir) {
  const make = FIXTURES[name];
  if (!make) throw new Error(`unknown test workspace fixture "${name}"; known: ${Object.keys(FIXTURES).join(', ')}`);
  return make(dir);
}

module.exports = { createDemoWorkspace, createFixture, datesRelativeTo, FIXTURES };

if (require.main === module) {
  const args = process.argv.slice(2);
  const dir = args.find((a) => !a.startsWith('--'));
  if (!dir) {
    console.error('usage: node scripts/demo.js <dir> [--no-coordination] [--no-targets-registry]');
    process.exit(2);
  }
  const ws = createDemoWorkspace(dir, {
    coordination: !args.includes('--no-coordination'),
    targetsRegistry: !args.includes('--no-targets-registry'),
  });
  console.log(`demo workspace in ${ws.root}; open ${ws.main}`);
  console.log(`instances named demo-… run the stand-in agent once you trust the workspace: cd ${ws.main} && syncord trust`);
}

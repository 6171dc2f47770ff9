// Lays out the demo workspace from the committed template in demo/ (see demo/README.md):
//
//   <dir>/opencode_4py/                 main project, a git repo with dated commits (the folder to open)
//   <dir>/opencode_4py/coordination/    seed 004 example files + targets.json + sync-rules.jsonc (opencode_4py preset)
//   <dir>/targets/ComfyUI_windows_portable/   site-packages target, last synced before the latest docs commit
//   <dir>/targets/simple_python_app/          source target, up to date
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
/** The sync rules of the demo's main project, seed 002's opencode_4py: `syncord sync rules --init --preset opencode_4py`. */
const SYNC_RULES = path.join(TEMPLATE, 'coordination', 'sync-rules.jsonc');

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
 *   coordination     (default true)  create <main>/coordination with the seed 004 files and the sync rules
 *   targetsRegistry  (default true)  write <main>/coordination/targets.json registering both targets
 *
 * Returns { root, main, coordinationDir, targets: { [name]: absolutePath }, commits: [{ sha, date, message }] }.
 */
function createDemoWorkspace(dir, options = {}) {
  const withCoordination = options.coordination !== false;
  const withRegistry = withCoordination && options.targetsRegistry !== false;
  const plan = JSON.parse(fs.readFileSync(path.join(TEMPLATE, 'commits.json'), 'utf8'));
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
    for (const f of COORDINATION_FILES) fs.copyFileSync(path.join(SEED004, f), path.join(coordinationDir, f));
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
    const date = '2026-02-27T09:00:00Z';
    const message = 'Add agent coordination files and the target registry';
    git(main, ['commit', '-q', '--no-gpg-sign', '--no-verify', '-m', message], date);
    commits.push({ sha: git(main, ['rev-parse', 'HEAD']).trim(), date, message });
  }

  return { root, main, coordinationDir, targets, commits };
}

/**
 * Named workspaces for the integration and e2e tests. Each returns { root, folder, ... } where
 * `folder` is what VS Code opens. Add a new one here when a test needs another starting state.
 */
const FIXTURES = {
  /** The full demo: git history, two targets, coordination folder with seed 004 files and targets.json. */
  demo: (dir) => withFolder(createDemoWorkspace(dir)),
  /** The demo's main project and targets, but no coordination folder (so no targets.json either). */
  'demo-no-coordination': (dir) => withFolder(createDemoWorkspace(dir, { coordination: false })),
  /** Coordination folder with the seed 004 files but no targets.json. */
  'demo-no-targets': (dir) => withFolder(createDemoWorkspace(dir, { targetsRegistry: false })),
  /**
   * The full demo again, for the agent-session tests: a workspace of their own, since sessions leave
   * sessions.json, agent logs and git worktrees behind that other suites' change detection would see.
   */
  'demo-sessions': (dir) => withFolder(createDemoWorkspace(dir)),
  /**
   * The full demo again, for the merge editor (test/integration/targetsConflicts.test.ts): a workbench of its
   * own, with no editors, dialogs or pending saves left by the other targets tests.
   */
  'demo-conflicts': (dir) => withFolder(createDemoWorkspace(dir)),
  /** The full demo once more, for the sessions with the real Claude Code (test/integration/realAgents.test.ts). */
  'demo-agents': (dir) => withFolder(createDemoWorkspace(dir)),
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

module.exports = { createDemoWorkspace, createFixture, FIXTURES };

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
}

import { WorkspacePaths } from '../workspace';
import { selectComponents, sourceFiles } from './components';
import { CategoryChanges, ChangedFile, DetectResult, detectChanges } from './detect';
import { isGitRepo } from './git';
import { ResolvedTarget } from './registry';
import { PRIORITIES, SyncRules } from './schema';
import { targetStatus } from './status';
import { plural } from '../plural';

const MAX_FILES_LISTED = 15;

function code(s: string): string {
  return '`' + s.replace(/`/g, "'") + '`';
}

/**
 * Seed 002's post-sync verification checklist as Markdown, filled in for one target: what is pending (by
 * category and priority, as `syncord sync status` counts it: the same comparison), the components with their
 * destinations and file counts, the config merge table, and the verify commands of the rules. With `since`,
 * the changes listed are those of the main project since that commit instead.
 */
export async function buildChecklist(paths: WorkspacePaths, rules: SyncRules, target: ResolvedTarget, opts: { since?: DetectResult } = {}): Promise<string> {
  const sel = selectComponents(paths, rules, target);
  const useGit = await isGitRepo(paths.root);
  const status = await targetStatus(paths, rules, target, { git: useGit });
  const relevant: ChangedFile[] = opts.since ? opts.since.files.filter((f) => f.categories.some((c) => rules.categories[c]?.sync)) : status.changes;
  const inPlan = new Set(relevant.map((f) => f.path));
  const categories: CategoryChanges[] = [];
  for (const [name, rule] of Object.entries(rules.categories)) {
    const files = relevant.filter((f) => f.categories.includes(name));
    if (files.length) categories.push({ category: name, priority: rule.priority, description: rule.description, sync: rule.sync, files });
  }
  categories.sort((a, b) => PRIORITIES.indexOf(a.priority) - PRIORITIES.indexOf(b.priority) || a.category.localeCompare(b.category));
  const outsideCategories = relevant.filter((f) => !f.categories.length);
  // What changed in the main project since the recorded sync and is not synchronized (outside the components and synced categories).
  const changedSince = opts.since ?? (status.since ? await detectChanges(paths, rules, status.since) : undefined);
  const notSynced = changedSince ? changedSince.files.filter((f) => !inPlan.has(f.path)) : [];
  const verb: Record<string, string> = { add: 'add', update: 'update', merge: 'merge', delete: 'delete', conflict: 'CONFLICT', config: 'merge config', changed: 'changed' };
  const listFile = (f: ChangedFile & { action?: string; detail?: string }) =>
    `  - ${f.action ? verb[f.action] : f.status === '?' ? 'untracked' : f.status} ${code(f.path)}${f.oldPath ? ` (from ${code(f.oldPath)})` : ''}${f.detail ? ` — ${f.detail}` : ''}`;
  const L: string[] = [];
  L.push(`# Sync checklist for ${target.name}`, '');
  L.push(`## Verification Checklist for ${target.name}`, '');
  L.push(`Target: ${code(target.path)} (${target.type}) · last sync: ${target.last_sync ?? 'never'} · version: ${target.sync_version ?? 'none'}`);
  L.push(`Status: ${status.status} (${status.reason})`);
  const n = relevant.length;
  L.push(opts.since ? `Changes since: ${code(opts.since.since?.slice(0, 12) ?? 'the beginning')} · ${plural(n, 'changed file')} in synced categories` : `Pending: ${plural(n, 'file')} to synchronize`, '');
  L.push('### Changes to Synchronize', '');
  if (!relevant.length) L.push('Nothing to synchronize: a sync would change nothing.', '');
  else {
    if (categories.length) {
      L.push('| Category | Priority | Files |', '|----------|----------|-------|');
      for (const c of categories) L.push(`| ${c.category} | ${c.priority[0].toUpperCase()}${c.priority.slice(1)} | ${c.files.length} |`);
      L.push('');
    }
    for (const c of categories) {
      L.push(`- [ ] **${c.category}** (${c.priority}):`);
      for (const f of c.files.slice(0, MAX_FILES_LISTED)) L.push(listFile(f));
      if (c.files.length > MAX_FILES_LISTED) L.push(`  - … and ${c.files.length - MAX_FILES_LISTED} more`);
    }
    if (outsideCategories.length) {
      L.push(`- [ ] **component files outside every category**:`);
      for (const f of outsideCategories.slice(0, MAX_FILES_LISTED)) L.push(listFile(f));
      if (outsideCategories.length > MAX_FILES_LISTED) L.push(`  - … and ${outsideCategories.length - MAX_FILES_LISTED} more`);
    }
    L.push('');
  }
  if (status.kept.length) L.push(`Kept with the target's own edits (a sync leaves them): ${status.kept.slice(0, 5).map(code).join(', ')}${status.kept.length > 5 ? ', …' : ''}`, '');
  if (notSynced.length) {
    L.push(`Not synchronized (outside synced categories and components, not counted above): ${plural(notSynced.length, 'file')}, e.g. ${notSynced.slice(0, 5).map((f) => code(f.path)).join(', ')}`, '');
  }
  const covered = new Set<string>();
  for (const c of [...sel.components, ...sel.configs]) for (const cat of categories) if (cat.files.some((f) => f.path === c.source || f.path.startsWith(c.source + '/'))) covered.add(cat.category);
  const codeCats = categories.filter((c) => !covered.has(c.category) && c.sync).map((c) => c.category);
  L.push('### Core Functionality', '');
  if (codeCats.length) {
    L.push(
      target.type === 'site-packages'
        ? `- [ ] Reinstall in the target (${codeCats.join(', ')} changed): ${code(`pip install --upgrade ${paths.root}/src/opencode`)}`
        : `- [ ] Reinstall in development mode (${codeCats.join(', ')} changed): ${code('pip install -e .')}; update hard-coded paths if needed`,
    );
  }
  L.push('- [ ] `opencode --help` runs without errors', '- [ ] `opencode run` starts TUI successfully', '- [ ] Provider connection works (test with available model)', '- [ ] Basic tools function (read, write, bash)', '');
  L.push('### Integration-Specific', '', '- [ ] Launch scripts execute correctly', '- [ ] Configuration loads without errors', '- [ ] Session files save to correct location', '- [ ] Logs write to correct location', '');
  L.push('### Documentation', '');
  for (const c of sel.components) {
    if (status.notApplicable.includes(c.name)) {
      L.push(`- Not applicable: ${code(c.source + (c.kind === 'dir' ? '/' : ''))} does not exist in the main project`);
      continue;
    }
    const n = (await sourceFiles(paths.root, c, useGit)).files.size;
    const what = c.kind === 'dir' ? `Complete ${code(c.source + '/')} directory copied` : `${code(c.source)} copied`;
    L.push(`- [ ] ${what} to ${code(c.destination + (c.kind === 'dir' ? '/' : ''))} (${plural(n, 'file')}, ${c.mode})`);
  }
  L.push(`- [ ] No broken links in copied documents (${code(`syncord sync verify --target ${target.name}`)})`, '');
  if (sel.configs.length) {
    L.push('### Configuration', '');
    for (const c of sel.configs) {
      if (status.notApplicable.includes(c.name)) {
        L.push(`- Not applicable: ${code(c.source)} does not exist in the main project`);
        continue;
      }
      const strategies = Object.entries(c.strategies).map(([k, s]) => `${code(k)}: ${s}`).join(', ');
      L.push(`- [ ] ${code(c.source)} merged into ${code(c.destination)} (${strategies || 'no per-key strategies'}; other keys: ${c.defaultStrategy}) — review with ${code(`syncord config diff ${target.name}`)}`);
    }
    L.push('');
  }
  L.push('### Feature Tests', '', '- [ ] Run target-specific test suite', '- [ ] Verify no regressions in target functionality', '- [ ] Test integration with target\'s main features', '');
  L.push('### Pre-flight Check', '');
  const cmds = rules.verify.commands.filter((c) => !c.types || c.types.includes(target.type));
  for (const c of cmds) L.push(`- [ ] ${c.name}: ${code(c.command)}`);
  if (!cmds.length) L.push('- [ ] Run pre-flight check script successfully');
  L.push('- [ ] All critical checks pass (Python, dependencies, installation)', '- [ ] Configuration loads without errors', '');
  L.push(`Backup before syncing: ${code(`syncord target backup ${target.name}`)} · sync: ${code(`syncord sync run --target ${target.name}`)}`);
  return L.join('\n') + '\n';
}

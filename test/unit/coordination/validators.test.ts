import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { z } from 'zod';
import { CommunicationLogSchema, DecisionLogSchema, RegistrySchema, TaskQueueSchema } from '../../../src/core/coordination/schemas';
import { matchesCommunicationLog, matchesDecisionLog, matchesRegistry, matchesTaskQueue } from '../../../src/core/coordination/validators.generated';
import { PROJECT_ROOT } from './helpers';

/**
 * Reads of the coordination files run generated checks (validators.generated.ts) and build the zod schemas only to
 * describe a failure: the two must say the same of every value, or a file would be accepted that the schema
 * refuses (or refused with no problem to name). Held here against many values: the seed and demo files (one with
 * merge conflicts and a sync workflow's task added), and every file made from them by changing one place (a field
 * removed, its value replaced by one of another kind, an unknown field added).
 */

type Kind = { name: string; file: string; matches: (v: unknown) => boolean; schema: z.ZodType };
const KINDS: Kind[] = [
  { name: 'registry', file: 'instance-registry.json', matches: matchesRegistry, schema: RegistrySchema },
  { name: 'task queue', file: 'task-queue.json', matches: matchesTaskQueue, schema: TaskQueueSchema },
  { name: 'communication log', file: 'communication-log.json', matches: matchesCommunicationLog, schema: CommunicationLogSchema },
  { name: 'decision log', file: 'decisions.json', matches: matchesDecisionLog, schema: DecisionLogSchema },
];

/** Values put in place of another: each kind of JSON value, and strings the schemas' patterns look at. */
const REPLACEMENTS: unknown[] = [
  null, true, 0, 1.5, -1, 2 ** 53, '', 'x', '2024-01-15', '2024-01-15T10:30:00Z', '2024-13-45 99:99', 'yesterday', 'wf_001', 'wf_x',
  'apply', 'coding', 'fields', 'a/b', [], ['x'], [1], {}, { path: [] }, { id: 'x', kind: 'fields' },
];

/** Every path of a JSON value (objects' keys and arrays' indexes), the root first. */
function paths(v: unknown, at: (string | number)[] = []): (string | number)[][] {
  const out = [at];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...at, i])));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...at, k]));
  return out;
}

/** A copy of `root` with the value at `at` replaced (`undefined`: removed; for an object, `extra` adds a key). */
function changed(root: unknown, at: (string | number)[], to: unknown, extra?: string): unknown {
  const copy = structuredClone(root);
  if (!at.length) return to;
  let parent = copy as Record<string | number, unknown>;
  for (const k of at.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
  const last = at[at.length - 1];
  if (extra !== undefined) (parent[last] as Record<string, unknown>)[extra] = 1;
  else if (to === undefined) {
    if (Array.isArray(parent)) parent.splice(last as number, 1);
    else delete parent[last];
  } else parent[last] = to;
  return copy;
}

/** Fields the seed and demo files do not show: conflicts a git merge left, and a task of a sync carried out by agents. */
const MERGE_CONFLICTS = [
  { id: 'task_001', kind: 'fields', collection: 'tasks', record: 'task_001', fields: [{ path: ['title', 0], base: 'a', ours: 'b', theirs: null }], theirs_commit: null, merged_at: '2026-01-01T00:00:00Z' },
  { id: 'decisions.json', kind: 'references', file: 'decisions.json', renames: { task_009: 'task_010' }, records: ['dec_004'] },
];
const WORKFLOW_TASK = {
  task_id: 'task_900',
  title: 'Verify site-a',
  assigned_to: null,
  status: 'pending_assignment',
  priority: 'high',
  sync_workflow: {
    id: 'wf_001', target: 'site-a', step: 'verify', agent: 'testing', round: 2, handed_over: 'msg_1', requested_by: 'lead', since: null, until: 'abc',
    categories: [{ category: 'docs', priority: 'high', files: 3 }], checklist: ['run the tests'],
    failures: [{ check: 'tests', detail: 'two failed', problems: ['a.py:1'] }], verify: { passed: false, at: '2026-01-01T00:00:00Z' }, reported: null,
  },
};

/** A sample with the fields above added. */
function enriched(file: string, value: unknown): unknown {
  const copy = structuredClone(value) as Record<string, unknown>;
  copy.merge_conflicts = structuredClone(MERGE_CONFLICTS);
  if (file === 'task-queue.json') (copy.pending_tasks as unknown[]).push(structuredClone(WORKFLOW_TASK));
  return copy;
}

/** The seed files, the demo's (whose times are placeholders such as "{now-2d}", refused until laid out) and the demo's as laid out. */
function samples(file: string): unknown[] {
  const out: unknown[] = [];
  for (const dir of [path.join(PROJECT_ROOT, 'test', 'fixtures', 'seed004'), path.join(PROJECT_ROOT, 'demo', 'coordination')]) {
    const f = path.join(dir, file);
    if (!fs.existsSync(f)) continue;
    const text = fs.readFileSync(f, 'utf8');
    out.push(JSON.parse(text));
    if (text.includes('{now')) out.push(JSON.parse(text.replace(/"\{now[^"]*\}"/g, '"2026-01-15T10:30:00Z"')));
  }
  out.push(enriched(file, out[0]));
  return out;
}

describe('coordination/generated checks', () => {
  for (const kind of KINDS) {
    it(`say what the zod schema says of every ${kind.name} made from the seed and demo files`, () => {
      const bases = samples(kind.file);
      assert.ok(bases.length >= 3, `samples of ${kind.file}`);
      let accepted = 0;
      let refused = 0;
      const check = (value: unknown, what: string) => {
        const zod = kind.schema.safeParse(value).success;
        assert.equal(kind.matches(value), zod, `${kind.file} ${what}: the generated check says ${!zod}, the schema ${zod}`);
        if (zod) accepted++;
        else refused++;
      };
      for (const base of bases) {
        check(base, 'as it is');
        for (const at of paths(base)) {
          const where = at.join('.') || '(root)';
          check(changed(base, at, undefined), `without ${where}`);
          for (const to of REPLACEMENTS) check(changed(base, at, to), `with ${where} = ${JSON.stringify(to)}`);
          const here = at.reduce<unknown>((v, k) => (v as Record<string | number, unknown>)[k], base);
          if (here && typeof here === 'object' && !Array.isArray(here)) check(changed(base, at, undefined, 'extra_field'), `with a field added at ${where}`);
        }
      }
      // Both outcomes are exercised many times, so agreement is not agreement on one answer.
      assert.ok(accepted > 100 && refused > 100, `accepted ${accepted}, refused ${refused}`);
    });
  }
});

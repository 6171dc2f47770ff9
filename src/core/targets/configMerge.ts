import { applyEdits, modify, parse as parseJsoncValue } from 'jsonc-parser';
import { parse as parseToml, stringify as stringifyToml, TomlError } from 'smol-toml';
import { SyncordError } from '../errors';
import { parseJsonc } from '../store/jsonText';
import { MergeStrategy } from './schema';
import { keyText, samePath, scanToml, startsWith, TomlLayout } from './tomlText';

export interface MergeInput {
  format: 'toml' | 'json' | 'jsonc';
  sourceFile: string;
  sourceText: string;
  targetFile: string;
  /** Undefined when the target has no such file yet: the source file is taken as it is. */
  targetText: string | undefined;
  strategies: Record<string, MergeStrategy>;
  defaultStrategy: MergeStrategy;
}

export interface KeyChange {
  /** Dotted key path. */
  key: string;
  action: 'added' | 'replaced' | 'items-added';
  strategy: MergeStrategy;
}

export interface MergeOutput {
  /** The text config sync would write (equal to the target text when nothing changes). */
  text: string;
  changed: boolean;
  created: boolean;
  changes: KeyChange[];
}

type Obj = Record<string, unknown>;

function isTable(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

/** Structural equality (key order ignored; dates by value). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a instanceof Date || b instanceof Date) return String(a) === String(b);
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, k) => deepEqual(x, b[k]));
  }
  if (typeof a === 'object' && a && typeof b === 'object' && b) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    if (ka.length !== kb.length) return false;
    return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqual((a as Obj)[k], (b as Obj)[k]));
  }
  if (typeof a === 'number' && typeof b === 'number') return Number.isNaN(a) && Number.isNaN(b);
  return false;
}

interface Plan {
  expected: Obj;
  changes: KeyChange[];
  /** Operations in terms of key paths. */
  ops: ({ op: 'add' | 'replace'; path: string[] } | { op: 'append'; path: string[]; items: unknown[]; itemIndexes: number[] })[];
}

/** Decides, on parsed values, what a merge changes. */
function planMerge(src: Obj, tgt: Obj, strategies: Record<string, MergeStrategy>, def: MergeStrategy): Plan {
  const expected = structuredClone(tgt) as Obj;
  const plan: Plan = { expected, changes: [], ops: [] };
  const setAt = (p: string[], v: unknown) => {
    let o = expected;
    for (const k of p.slice(0, -1)) o = o[k] as Obj;
    o[p[p.length - 1]] = structuredClone(v);
  };
  const merge = (p: string[], s: unknown, t: unknown, strategy: MergeStrategy) => {
    if (t === undefined) {
      plan.ops.push({ op: 'add', path: p });
      plan.changes.push({ key: p.join('.'), action: 'added', strategy });
      setAt(p, s);
    } else if (isTable(s) && isTable(t)) {
      for (const k of Object.keys(s)) merge([...p, k], s[k], t[k], strategy);
    } else if (Array.isArray(s) && Array.isArray(t)) {
      const itemIndexes: number[] = [];
      s.forEach((item, k) => {
        if (!t.some((x) => deepEqual(x, item))) itemIndexes.push(k);
      });
      if (itemIndexes.length) {
        const items = itemIndexes.map((k) => s[k]);
        plan.ops.push({ op: 'append', path: p, items, itemIndexes });
        plan.changes.push({ key: p.join('.'), action: 'items-added', strategy });
        setAt(p, [...t, ...items]);
      }
    }
  };
  for (const key of Object.keys(src)) {
    const strategy = strategies[key] ?? def;
    if (strategy === 'keep-target') continue;
    if (strategy === 'take-source') {
      if (!deepEqual(src[key], tgt[key])) {
        plan.ops.push({ op: tgt[key] === undefined ? 'add' : 'replace', path: [key] });
        plan.changes.push({ key, action: tgt[key] === undefined ? 'added' : 'replaced', strategy });
        setAt([key], src[key]);
      }
      continue;
    }
    merge([key], src[key], tgt[key], strategy);
  }
  return plan;
}

interface Edit {
  offset: number;
  length: number;
  text: string;
  order: number;
  /** At one offset, lower ranks come first in the result (key lines before appended sections). */
  rank: number;
}

function applyTextEdits(text: string, edits: Edit[]): string {
  const sorted = [...edits].sort((a, b) => b.offset - a.offset || b.rank - a.rank || b.order - a.order);
  let out = text;
  for (const e of sorted) out = out.slice(0, e.offset) + e.text + out.slice(e.offset + e.length);
  return out;
}

function tomlError(file: string, e: unknown): SyncordError {
  if (e instanceof TomlError) {
    const first = e.message.split('\n')[0];
    return new SyncordError(`invalid TOML: ${first.replace(/^Invalid TOML document: /, '')}`, 'invalid-file', { file, line: e.line, column: e.column });
  }
  return new SyncordError(`invalid TOML: ${(e as Error).message}`, 'invalid-file', { file });
}

export function parseTomlFile(file: string, text: string): Obj {
  try {
    return parseToml(text) as Obj;
  } catch (e) {
    throw tomlError(file, e);
  }
}

function inlineValue(v: unknown): string {
  const s = stringifyToml({ v });
  const m = /^v = (.*)$/s.exec(s.trim());
  if (!m) throw new Error('cannot write value inline');
  return m[1];
}

/** TOML: minimal text edits to the target (comments and layout kept), checked by re-parsing the result. */
function mergeTomlText(input: MergeInput, src: Obj, tgt: Obj, plan: Plan): string {
  const targetText0 = input.targetText!;
  const targetText = targetText0.endsWith('\n') || targetText0 === '' ? targetText0 : targetText0 + '\n';
  const sText = input.sourceText.endsWith('\n') ? input.sourceText : input.sourceText + '\n';
  const sL = scanToml(sText);
  const tL = scanToml(targetText);
  const edits: Edit[] = [];
  let order = 0;
  const push = (offset: number, length: number, text: string, rank = 0) => edits.push({ offset, length, text, order: order++, rank });
  const eofInserts: string[] = [];

  const sectionText = (L: TomlLayout, text: string, k: number) => text.slice(L.sections[k].start, L.sections[k].end).replace(/\s*$/, '\n');

  /** Where lines for a section with this header path go in the target (creating the header at EOF if needed). */
  const insertIntoSection = (headerPath: string[], lines: string) => {
    const idx = tL.sections.findIndex((s, k) => (k === 0 ? headerPath.length === 0 : s.header!.kind === 'table' && samePath(s.header!.path, headerPath)));
    if (idx >= 0) {
      const sec = tL.sections[idx];
      const lastEntry = sec.entries[sec.entries.length - 1];
      if (lastEntry) push(lastEntry.end, 0, lines);
      else if (sec.header) push(sec.header.lineEnd, 0, lines);
      else {
        // Root section without keys: before the first header's comment block.
        const first = tL.sections[1];
        push(first ? first.start : targetText.length, 0, first ? lines + '\n' : lines);
      }
      return;
    }
    eofInserts.push(`[${keyText(headerPath)}]\n${lines}`);
  };

  /** Copies every source definition of `p` into the target. */
  const addPath = (p: string[]) => {
    // Whole source sections whose header is at or below p.
    const parent = p.slice(0, -1);
    const copied: string[] = [];
    sL.sections.forEach((s, k) => {
      if (k > 0 && startsWith(s.header!.path, p)) copied.push(sectionText(sL, sText, k));
    });
    if (copied.length) {
      // After the last target section under the parent path, else at the end.
      let after = -1;
      tL.sections.forEach((s, k) => {
        if (k > 0 && parent.length > 0 && startsWith(s.header!.path, parent)) after = k;
      });
      const block = copied.map((c) => '\n' + c).join('');
      if (after >= 0) {
        const end = tL.sections[after].end;
        push(end, 0, end < targetText.length ? block.slice(1) + '\n' : block, 1);
      } else eofInserts.push(copied.join('\n'));
    }
    // Key lines of shallower sections whose full path is at or below p.
    const byHeader = new Map<string, { header: string[]; lines: string[] }>();
    for (const e of sL.entries) {
      const hp = sL.sections[e.section].header?.path ?? [];
      if (startsWith(hp, p) && hp.length >= p.length && e.section > 0) continue; // inside a copied section
      if (!startsWith(e.fullPath, p)) continue;
      const id = JSON.stringify(hp);
      if (!byHeader.has(id)) byHeader.set(id, { header: hp, lines: [] });
      byHeader.get(id)!.lines.push(sText.slice(e.start, e.end));
    }
    for (const { header, lines } of byHeader.values()) insertIntoSection(header, lines.join(''));
  };

  /** Removes every target definition of `p`. */
  const removePath = (p: string[]) => {
    tL.sections.forEach((s, k) => {
      if (k > 0 && startsWith(s.header!.path, p)) push(s.start, s.end - s.start, '');
    });
    for (const e of tL.entries) {
      const hp = tL.sections[e.section].header?.path ?? [];
      if (e.section > 0 && startsWith(hp, p)) continue;
      if (startsWith(e.fullPath, p)) push(e.start, e.end - e.start, '');
    }
  };

  const appendItems = (p: string[], items: unknown[], itemIndexes: number[]) => {
    const kv = tL.entries.find((e) => samePath(e.fullPath, p));
    if (kv) {
      const value = targetText.slice(kv.valueStart, kv.valueEnd);
      const close = value.lastIndexOf(']');
      if (!value.startsWith('[') || close < 0) throw new Error(`${p.join('.')} is not an inline array`);
      const before = value.slice(0, close);
      const texts = items.map(inlineValue);
      if (before.includes('\n')) {
        const lines = before.split('\n');
        const lastLine = lines[lines.length - 1];
        let k = lines.length - 1;
        while (k > 0 && lines[k].trim() === '') k--;
        const itemLine = lines[k];
        const indent = /^\s*/.exec(k > 0 ? itemLine : (lines[1] ?? '    '))![0] || '  ';
        const needsComma = k > 0 && !/,\s*(#.*)?$/.test(itemLine) && itemLine.trim() !== '' && !itemLine.trim().startsWith('#');
        const lineStartOffset = kv.valueStart + before.length - lastLine.length;
        if (needsComma) {
          const codeEnd = itemLine.replace(/\s*(#[^"']*)?$/, '').length;
          const offsetOfItemLine = kv.valueStart + lines.slice(0, k).reduce((a, l) => a + l.length + 1, 0);
          push(offsetOfItemLine + codeEnd, 0, ',');
        }
        push(lineStartOffset, 0, texts.map((t) => `${indent}${t},\n`).join(''));
      } else {
        const trimmed = before.trimEnd();
        const lastCh = trimmed[trimmed.length - 1];
        const sep = lastCh === '[' ? '' : lastCh === ',' ? ' ' : ', ';
        push(kv.valueStart + trimmed.length, before.length - trimmed.length, sep + texts.join(', '));
      }
      return;
    }
    // An array of tables: copy the source blocks of the missing items.
    const srcBlocks: string[][] = [];
    sL.sections.forEach((s, k) => {
      if (k === 0) return;
      const h = s.header!;
      if (h.kind === 'array' && samePath(h.path, p)) srcBlocks.push([sectionText(sL, sText, k)]);
      else if (srcBlocks.length && startsWith(h.path, p) && h.path.length > p.length) srcBlocks[srcBlocks.length - 1].push(sectionText(sL, sText, k));
    });
    if (!srcBlocks.length) throw new Error(`cannot find the items of ${p.join('.')}`);
    const text = itemIndexes.map((k) => srcBlocks[k].join('\n')).join('\n');
    let after = -1;
    tL.sections.forEach((s, k) => {
      if (k > 0 && startsWith(s.header!.path, p)) after = k;
    });
    if (after >= 0) {
      const end = tL.sections[after].end;
      push(end, 0, end < targetText.length ? text + '\n' : '\n' + text, 1);
    } else eofInserts.push(text);
  };

  for (const op of plan.ops) {
    if (op.op === 'add') addPath(op.path);
    else if (op.op === 'replace') {
      removePath(op.path);
      addPath(op.path);
    } else if (op.op === 'append') appendItems(op.path, op.items, op.itemIndexes);
  }
  let out = applyTextEdits(targetText, edits);
  if (eofInserts.length) out = out + (out.endsWith('\n\n') || out === '' ? '' : '\n') + eofInserts.join('\n');
  return out;
}

/**
 * Merges a config file of the main project into a target's, key by key, and returns the text to write. The
 * target's comments and formatting are kept: values are computed on parsed data, then applied as small text
 * edits, and the edited text is parsed again to prove it holds exactly the merged values.
 */
export function mergeConfig(input: MergeInput): MergeOutput {
  if (input.format === 'toml') {
    const src = parseTomlFile(input.sourceFile, input.sourceText);
    if (input.targetText === undefined) return { text: input.sourceText, changed: true, created: true, changes: [] };
    const tgt = parseTomlFile(input.targetFile, input.targetText);
    const plan = planMerge(src, tgt, input.strategies, input.defaultStrategy);
    if (!plan.ops.length) return { text: input.targetText, changed: false, created: false, changes: [] };
    let text: string;
    try {
      text = mergeTomlText(input, src, tgt, plan);
    } catch (e) {
      throw new SyncordError(`cannot merge ${plan.changes.map((c) => c.key).join(', ')} into this file while keeping its layout: ${(e as Error).message}`, 'conflict', { file: input.targetFile });
    }
    let check: Obj;
    try {
      check = parseToml(text) as Obj;
    } catch (e) {
      throw new SyncordError(`merging would produce invalid TOML (${(e as Error).message.split('\n')[0]}); the file was not changed`, 'conflict', { file: input.targetFile });
    }
    if (!deepEqual(check, plan.expected)) {
      throw new SyncordError(`cannot merge ${plan.changes.map((c) => c.key).join(', ')} into this file while keeping its layout; the file was not changed`, 'conflict', { file: input.targetFile });
    }
    return { text, changed: text !== input.targetText, created: false, changes: plan.changes };
  }
  const src = parseJsonc(input.sourceFile, input.sourceText);
  if (input.targetText === undefined) return { text: input.sourceText, changed: true, created: true, changes: [] };
  const tgt = parseJsonc(input.targetFile, input.targetText);
  if (!isTable(src) || !isTable(tgt)) throw new SyncordError('config files must hold a JSON object', 'invalid-file', { file: isTable(src) ? input.targetFile : input.sourceFile });
  const plan = planMerge(src, tgt, input.strategies, input.defaultStrategy);
  let text = input.targetText;
  const indent = /\n([ \t]+)"/.exec(text)?.[1] ?? '  ';
  const fmt = { formattingOptions: { insertSpaces: !indent.includes('\t'), tabSize: indent.includes('\t') ? 1 : indent.length, eol: text.includes('\r\n') ? '\r\n' : '\n' } };
  const valueAt = (o: Obj, p: string[]) => p.reduce<unknown>((v, k) => (v as Obj)[k], o);
  for (const op of plan.ops) text = applyEdits(text, modify(text, op.path, valueAt(plan.expected, op.path), fmt));
  if (!deepEqual(parseJsoncValue(text, [], { allowTrailingComma: true }), plan.expected)) {
    throw new SyncordError('merging would change more than the merged keys; the file was not changed', 'conflict', { file: input.targetFile });
  }
  return { text, changed: text !== input.targetText, created: false, changes: plan.changes };
}

/**
 * A small structural scanner for TOML text: where each table header and each key/value is, so config merge
 * can change a target file with minimal text edits (its comments and layout stay as they are). Values are
 * not interpreted here; smol-toml does that.
 */

export interface TomlHeader {
  kind: 'table' | 'array';
  path: string[];
  /** Offset of the start of the header line. */
  start: number;
  /** Offset of the start of the comment lines directly above the header (or `start`). */
  commentStart: number;
  /** Offset just after the header line (after its newline). */
  lineEnd: number;
}

export interface TomlKeyValue {
  /** The key as written (dotted keys split). */
  key: string[];
  /** Header path + key. */
  fullPath: string[];
  /** Index into `sections` (0 is the root section, before any header). */
  section: number;
  /** Offset of the line start. */
  start: number;
  valueStart: number;
  /** Offset just after the value text (before any trailing comment). */
  valueEnd: number;
  /** Offset just after the line's newline. */
  end: number;
}

export interface TomlSection {
  header?: TomlHeader;
  /** From the header's comment block (or 0 for the root) to the next section's comment block. */
  start: number;
  end: number;
  entries: TomlKeyValue[];
}

export interface TomlLayout {
  sections: TomlSection[];
  entries: TomlKeyValue[];
}

const BARE = /[A-Za-z0-9_-]/;

export function scanToml(text: string): TomlLayout {
  const sections: TomlSection[] = [{ start: 0, end: text.length, entries: [] }];
  const entries: TomlKeyValue[] = [];
  let i = 0;
  const n = text.length;
  let commentBlockStart = -1;

  const skipSpaces = () => {
    while (i < n && (text[i] === ' ' || text[i] === '\t')) i++;
  };
  const toLineEnd = () => {
    while (i < n && text[i] !== '\n') i++;
    if (i < n) i++;
  };
  const readKeyPart = (): string | undefined => {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (j < n && text[j] !== '"' && text[j] !== '\n') j += text[j] === '\\' ? 2 : 1;
      const raw = text.slice(i, j + 1);
      i = j + 1;
      try {
        return JSON.parse(raw) as string;
      } catch {
        return raw.slice(1, -1);
      }
    }
    if (c === "'") {
      const j = text.indexOf("'", i + 1);
      const s = text.slice(i + 1, j < 0 ? n : j);
      i = j < 0 ? n : j + 1;
      return s;
    }
    const s0 = i;
    while (i < n && BARE.test(text[i])) i++;
    return i > s0 ? text.slice(s0, i) : undefined;
  };
  const readKey = (): string[] | undefined => {
    const parts: string[] = [];
    for (;;) {
      skipSpaces();
      const p = readKeyPart();
      if (p === undefined) return undefined;
      parts.push(p);
      skipSpaces();
      if (text[i] === '.') {
        i++;
        continue;
      }
      return parts;
    }
  };
  /** Skips a value; returns the offset after its last significant character. */
  const skipValue = (): number => {
    let depth = 0;
    let last = i;
    while (i < n) {
      const c = text[i];
      if (c === '"' || c === "'") {
        const triple = text.startsWith(c.repeat(3), i);
        if (triple) {
          const close = c.repeat(3);
          let j = i + 3;
          for (;;) {
            const k = text.indexOf(close, j);
            if (k < 0) {
              j = n;
              break;
            }
            if (c === '"' && isEscaped(text, k)) {
              j = k + 1;
              continue;
            }
            j = k + 3;
            while (text[j] === c) j++; // up to two quotes may end the content
            break;
          }
          i = j;
        } else {
          let j = i + 1;
          while (j < n && text[j] !== c && text[j] !== '\n') j += c === '"' && text[j] === '\\' ? 2 : 1;
          i = Math.min(j + 1, n);
        }
        last = i;
        continue;
      }
      if (c === '#') {
        while (i < n && text[i] !== '\n') i++;
        continue;
      }
      if (c === '\n') {
        if (depth === 0) return last;
        i++;
        continue;
      }
      if (c === '[' || c === '{') depth++;
      else if (c === ']' || c === '}') depth--;
      i++;
      if (c !== ' ' && c !== '\t' && c !== '\r') last = i;
    }
    return last;
  };

  while (i < n) {
    const lineStart = i;
    skipSpaces();
    const c = text[i];
    if (c === '\n' || c === '\r' || i >= n) {
      commentBlockStart = -1;
      toLineEnd();
      continue;
    }
    if (c === '#') {
      if (commentBlockStart < 0) commentBlockStart = lineStart;
      toLineEnd();
      continue;
    }
    if (c === '[') {
      const kind = text[i + 1] === '[' ? 'array' : 'table';
      i += kind === 'array' ? 2 : 1;
      const p = readKey() ?? [];
      toLineEnd();
      const header: TomlHeader = { kind, path: p, start: lineStart, commentStart: commentBlockStart >= 0 ? commentBlockStart : lineStart, lineEnd: i };
      sections[sections.length - 1].end = header.commentStart;
      sections.push({ header, start: header.commentStart, end: n, entries: [] });
      commentBlockStart = -1;
      continue;
    }
    commentBlockStart = -1;
    const key = readKey();
    skipSpaces();
    if (!key || text[i] !== '=') {
      toLineEnd();
      continue;
    }
    i++;
    skipSpaces();
    const valueStart = i;
    const valueEnd = skipValue();
    toLineEnd();
    const section = sections.length - 1;
    const headerPath = sections[section].header?.path ?? [];
    const kv: TomlKeyValue = { key, fullPath: [...headerPath, ...key], section, start: lineStart, valueStart, valueEnd, end: i };
    sections[section].entries.push(kv);
    entries.push(kv);
  }
  return { sections, entries };
}

function isEscaped(text: string, at: number): boolean {
  let k = at - 1;
  let count = 0;
  while (k >= 0 && text[k] === '\\') {
    count++;
    k--;
  }
  return count % 2 === 1;
}

export function startsWith(p: string[], prefix: string[]): boolean {
  if (prefix.length > p.length) return false;
  for (let k = 0; k < prefix.length; k++) if (p[k] !== prefix[k]) return false;
  return true;
}

export function samePath(a: string[], b: string[]): boolean {
  return a.length === b.length && startsWith(a, b);
}

/** A key path as TOML text (bare where possible). */
export function keyText(p: string[]): string {
  return p.map((k) => (/^[A-Za-z0-9_-]+$/.test(k) ? k : JSON.stringify(k))).join('.');
}

import { LineCounter, parseDocument } from 'yaml';

export type YamlRead = { ok: true; data: unknown } | { ok: false; errors: string[] };

/**
 * YAML text as plain data, or every syntax error as `file:line:col: message`. Never
 * throws: toJS's own failures (alias bombs and similar) come back as an error line too.
 * Policies and the SSH inventory read their files through it.
 */
export function readYaml(text: string, fileName: string): YamlRead {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      errors: doc.errors.map((e) => {
        const { line, col } = lineCounter.linePos(e.pos[0]);
        return `${fileName}:${line}:${col}: ${e.message}`;
      }),
    };
  }
  try {
    return { ok: true, data: doc.toJS() as unknown };
  } catch (e) {
    return { ok: false, errors: [`${fileName}: ${e instanceof Error ? e.message : String(e)}`] };
  }
}

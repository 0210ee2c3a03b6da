/**
 * Atlassian Document Format, the rich-text JSON Jira REST v3 requires for descriptions
 * and comments (developer.atlassian.com/cloud/jira/platform/apis/document/structure/).
 * Only the nodes patchops writes: paragraph, heading, bulletList, table, text (+ marks).
 */
export type AdfNode = {
  type: string;
  attrs?: Record<string, unknown>;
  content?: AdfNode[];
  text?: string;
  marks?: { type: string }[];
};

export interface AdfDoc {
  type: 'doc';
  version: 1;
  content: AdfNode[];
}

export const doc = (content: AdfNode[]): AdfDoc => ({ type: 'doc', version: 1, content });

/** ADF rejects empty text nodes, so empty text becomes an empty paragraph. */
export function text(value: string, marks: string[] = []): AdfNode[] {
  if (!value) return [];
  return [
    {
      type: 'text',
      text: value,
      ...(marks.length ? { marks: marks.map((type) => ({ type })) } : {}),
    },
  ];
}

/** One paragraph per blank-line-separated block; single newlines become hard breaks. */
export function paragraphs(plain: string): AdfNode[] {
  return plain
    .replace(/\r\n?/g, '\n')
    .split(/\n{2,}/)
    .map((block) => block.trim())
    .filter(Boolean)
    .map((block) => ({
      type: 'paragraph',
      content: block
        .split('\n')
        .flatMap((line, i) => [...(i > 0 ? [{ type: 'hardBreak' }] : []), ...text(line)]),
    }));
}

export const heading = (level: number, value: string): AdfNode => ({
  type: 'heading',
  attrs: { level },
  content: text(value),
});

export const bulletList = (items: string[]): AdfNode => ({
  type: 'bulletList',
  content: items.map((item) => ({
    type: 'listItem',
    content: [{ type: 'paragraph', content: text(item) }],
  })),
});

const cell = (type: 'tableHeader' | 'tableCell', value: string): AdfNode => ({
  type,
  content: [{ type: 'paragraph', content: text(value) }],
});

export const table = (header: string[], rows: string[][]): AdfNode => ({
  type: 'table',
  attrs: { isNumberColumnEnabled: false, layout: 'default' },
  content: [
    { type: 'tableRow', content: header.map((h) => cell('tableHeader', h)) },
    ...rows.map((r) => ({ type: 'tableRow', content: r.map((v) => cell('tableCell', v)) })),
  ],
});

/** The visible text of a document, blocks on their own lines (for finding markers). */
export function plainText(node: unknown): string {
  if (!node || typeof node !== 'object') return typeof node === 'string' ? node : '';
  const n = node as AdfNode;
  if (n.type === 'text') return n.text ?? '';
  if (n.type === 'hardBreak') return '\n';
  const inner = (n.content ?? []).map(plainText);
  const block = ['paragraph', 'heading', 'listItem', 'tableRow', 'doc', 'bulletList', 'table'];
  return block.includes(n.type) ? inner.join(n.type === 'tableRow' ? ' | ' : '\n') : inner.join('');
}

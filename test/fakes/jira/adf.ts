/**
 * What Jira Cloud accepts as Atlassian Document Format (developer.atlassian.com/cloud/
 * jira/platform/apis/document/structure/): a doc node of version 1 whose nodes have known
 * types and non-empty text. Anything else is refused with a 400, as Jira does.
 */
const NODE_TYPES = new Set([
  'doc',
  'paragraph',
  'text',
  'hardBreak',
  'heading',
  'bulletList',
  'orderedList',
  'listItem',
  'codeBlock',
  'blockquote',
  'rule',
  'table',
  'tableRow',
  'tableHeader',
  'tableCell',
  'panel',
  'mention',
  'emoji',
  'inlineCard',
]);

interface Node {
  type?: unknown;
  text?: unknown;
  content?: unknown;
}

function validNode(n: unknown, depth: number): boolean {
  if (depth > 30 || !n || typeof n !== 'object' || Array.isArray(n)) return false;
  const node = n as Node;
  if (typeof node.type !== 'string' || !NODE_TYPES.has(node.type) || node.type === 'doc')
    return false;
  if (node.type === 'text') return typeof node.text === 'string' && node.text.length > 0;
  if (node.content === undefined) return true;
  return Array.isArray(node.content) && node.content.every((c) => validNode(c, depth + 1));
}

export function isAdf(value: unknown): boolean {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return false;
  const d = value as Node & { version?: unknown };
  return (
    d.type === 'doc' &&
    d.version === 1 &&
    Array.isArray(d.content) &&
    d.content.every((c) => validNode(c, 1))
  );
}

const BLOCKS = new Set(['paragraph', 'heading', 'listItem', 'tableRow', 'codeBlock', 'blockquote']);

/** The text a reader sees, one line per block. */
export function adfText(value: unknown): string {
  const lines: string[] = [];
  let line = '';
  const walk = (n: unknown) => {
    if (!n || typeof n !== 'object') return;
    const node = n as Node;
    if (node.type === 'text' && typeof node.text === 'string') line += node.text;
    else if (node.type === 'hardBreak') {
      lines.push(line);
      line = '';
    }
    if (Array.isArray(node.content)) {
      node.content.forEach((c, i) => {
        if (node.type === 'tableRow' && i > 0) line += ' | ';
        walk(c);
      });
    }
    if (typeof node.type === 'string' && BLOCKS.has(node.type) && line) {
      lines.push(line);
      line = '';
    }
  };
  walk(value);
  if (line) lines.push(line);
  return lines.join('\n');
}

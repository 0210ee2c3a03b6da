/**
 * Removes secrets from text that may reach a log line or an error message: every
 * configured secret value, and any Authorization-style credential that slipped in
 * (Basic / Bearer tokens, `api_key=` query parameters).
 */
export type Redactor = (text: string) => string;

const PATTERNS: RegExp[] = [
  /\b(Basic|Bearer|token)\s+[A-Za-z0-9._~+/=-]{8,}/gi,
  /\b(api[_-]?key|access_token|client_secret|password)=([^&\s"']+)/gi,
];

export function createRedactor(secrets: readonly (string | undefined)[]): Redactor {
  // Longest first, so a secret that contains another is replaced whole. Very short values
  // would mangle ordinary words and are not worth hiding on their own.
  const values = [...new Set(secrets.filter((s): s is string => !!s && s.length >= 4))].sort(
    (a, b) => b.length - a.length,
  );
  // A Basic credential is the base64 of user:password: hide that form too.
  const encoded = values.map((v) => Buffer.from(v).toString('base64').replace(/=+$/, ''));
  return (text: string) => {
    let out = text;
    for (const v of [...values, ...encoded]) out = out.split(v).join('[redacted]');
    for (const p of PATTERNS) {
      out = out.replace(p, (_m, a: string, b?: string) =>
        b === undefined ? `${a} [redacted]` : `${a}=[redacted]`,
      );
    }
    return out;
  };
}

/** Redacts every string inside a JSON-like value (error bodies), keeping its shape. */
export function redactValue(value: unknown, redact: Redactor, depth = 0): unknown {
  if (typeof value === 'string') return redact(value);
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redactValue(v, redact, depth + 1));
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [
      k,
      /authorization|password|secret|token|api[_-]?key/i.test(k)
        ? '[redacted]'
        : redactValue(v, redact, depth + 1),
    ]),
  );
}

import { createHash, createHmac } from 'node:crypto';

/**
 * OpenSSH known_hosts, as sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT" describes it: one key per
 * line, `[marker] hostpatterns keytype base64key [comment]`; host patterns are plain names,
 * `[host]:port` for a port other than 22, `|1|salt|hmac` hashed names (HMAC-SHA1 of the
 * name keyed by the salt), `*`/`?` wildcards and `!` negations. `@revoked` keys are never
 * accepted; `@cert-authority` lines are skipped (patchops does not do host certificates).
 */

export interface KnownHostKey {
  /** e.g. "ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa". */
  type: string;
  /** The public key blob (the base64 field, decoded). */
  blob: Buffer;
  revoked: boolean;
}

export type HostKeyVerdict =
  | { status: 'verified'; fingerprint: string }
  | { status: 'unknown'; fingerprint: string }
  | { status: 'changed'; fingerprint: string; expected: string[] }
  | { status: 'revoked'; fingerprint: string };

interface Line {
  patterns: string[];
  key: KnownHostKey;
}

/** `SHA256:…` as `ssh-keygen -lf` prints it: unpadded base64 of the blob's SHA-256. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The key type named inside a public key blob (its first SSH string). */
export function blobType(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const n = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + n).toString('latin1');
}

/** The name OpenSSH looks hosts up by: `host` on port 22, `[host]:port` otherwise. */
export function hostLookupName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

export function parseKnownHosts(text: string): Line[] {
  const out: Line[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const fields = line.split(/\s+/);
    let marker: string | undefined;
    if (fields[0]?.startsWith('@')) marker = fields.shift();
    const [hosts, type, b64] = fields;
    if (!hosts || !type || !b64) continue;
    if (marker === '@cert-authority') continue;
    out.push({
      patterns: hosts.split(','),
      key: { type, blob: Buffer.from(b64, 'base64'), revoked: marker === '@revoked' },
    });
  }
  return out;
}

function wildcard(pattern: string, name: string): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`, 'i').test(name);
}

function hashedMatch(pattern: string, name: string): boolean {
  const [, magic, salt, hash] = pattern.split('|');
  if (magic !== '1' || !salt || !hash) return false;
  const mac = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
  return mac === hash;
}

/** Whether a line's host patterns name `lookup`; a matching `!pattern` vetoes the line. */
function matches(patterns: string[], lookup: string): boolean {
  let hit = false;
  for (const p of patterns) {
    if (p.startsWith('!')) {
      if (wildcard(p.slice(1), lookup)) return false;
    } else if (p.startsWith('|')) {
      hit ||= hashedMatch(p, lookup);
    } else {
      hit ||= wildcard(p, lookup);
    }
  }
  return hit;
}

/** The keys known_hosts lists for a host and port. */
export function keysFor(lines: Line[], host: string, port: number): KnownHostKey[] {
  const lookup = hostLookupName(host, port);
  return lines.filter((l) => matches(l.patterns, lookup)).map((l) => l.key);
}

/**
 * Judges the key a server presented. A host with no entry is `unknown`; a host whose
 * entries all differ from the key is `changed` (the adapter only offers the server the key
 * types it already knows, so a different type is a change too, as with OpenSSH).
 */
export function judgeHostKey(known: KnownHostKey[], presented: Buffer): HostKeyVerdict {
  const fp = fingerprint(presented);
  if (known.some((k) => k.revoked && k.blob.equals(presented))) {
    return { status: 'revoked', fingerprint: fp };
  }
  const trusted = known.filter((k) => !k.revoked);
  if (trusted.some((k) => k.blob.equals(presented))) return { status: 'verified', fingerprint: fp };
  if (trusted.length === 0) return { status: 'unknown', fingerprint: fp };
  return { status: 'changed', fingerprint: fp, expected: trusted.map((k) => fingerprint(k.blob)) };
}

/** The server host key algorithms to offer for the key types known_hosts has for a host. */
export function algorithmsFor(known: KnownHostKey[]): string[] {
  const out = new Set<string>();
  for (const k of known) {
    if (k.revoked) continue;
    if (k.type === 'ssh-rsa')
      ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'].forEach((a) => out.add(a));
    else out.add(k.type);
  }
  return [...out];
}

/** The line TOFU appends: the host's lookup name, its key type and key. */
export function knownHostsLine(host: string, port: number, blob: Buffer): string {
  return `${hostLookupName(host, port)} ${blobType(blob)} ${blob.toString('base64')}\n`;
}

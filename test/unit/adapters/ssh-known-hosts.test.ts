import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import {
  algorithmsFor,
  blobType,
  fingerprint,
  judgeHostKey,
  keysFor,
  knownHostsLine,
  parseKnownHosts,
} from '../../../adapters/rmm/ssh/known-hosts.js';

/**
 * known_hosts matching on files written and hashed by OpenSSH's own ssh-keygen (sshd(8)
 * "SSH_KNOWN_HOSTS FILE FORMAT"); fingerprints compared with `ssh-keygen -lf`.
 */
const dir = mkdtempSync(path.join(tmpdir(), 'patchops-kh-'));

function newKey(
  type: 'ed25519' | 'ecdsa' | 'rsa',
  name: string,
): { line: string; blob: Buffer; sshKeygenFp: string } {
  const file = path.join(dir, name);
  execFileSync('ssh-keygen', [
    '-q',
    '-t',
    type,
    ...(type === 'rsa' ? ['-b', '2048'] : []),
    '-N',
    '',
    '-f',
    file,
  ]);
  const line = readFileSync(`${file}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' ');
  const sshKeygenFp =
    execFileSync('ssh-keygen', ['-lf', `${file}.pub`])
      .toString()
      .split(' ')[1] ?? '';
  return { line, blob: Buffer.from(line.split(' ')[1] ?? '', 'base64'), sshKeygenFp };
}

const ed = newKey('ed25519', 'ed');
const ec = newKey('ecdsa', 'ec');
const rsa = newKey('rsa', 'rsa');
const other = newKey('ed25519', 'other');

describe('known_hosts', () => {
  it('computes fingerprints exactly as ssh-keygen -l does', () => {
    for (const k of [ed, ec, rsa]) assert.equal(fingerprint(k.blob), k.sshKeygenFp);
    assert.equal(blobType(ed.blob), 'ssh-ed25519');
    assert.equal(blobType(ec.blob), 'ecdsa-sha2-nistp256');
    assert.equal(blobType(rsa.blob), 'ssh-rsa');
  });

  it('matches plain names, [host]:port, lists, wildcards and negations', () => {
    const lines = parseKnownHosts(
      [
        '# comment',
        `web1.example.com,10.0.0.5 ${ed.line}`,
        `[10.0.0.6]:2222 ${ec.line}`,
        `*.lab.example.com,!secret.lab.example.com ${rsa.line} some comment`,
        '',
      ].join('\n'),
    );
    assert.equal(judgeHostKey(keysFor(lines, '10.0.0.5', 22), ed.blob).status, 'verified');
    assert.equal(judgeHostKey(keysFor(lines, 'web1.example.com', 22), ed.blob).status, 'verified');
    // Port 2222 is only known under [host]:port, and port 22 of that host is not.
    assert.equal(judgeHostKey(keysFor(lines, '10.0.0.6', 2222), ec.blob).status, 'verified');
    assert.equal(judgeHostKey(keysFor(lines, '10.0.0.6', 22), ec.blob).status, 'unknown');
    assert.equal(
      judgeHostKey(keysFor(lines, 'a.lab.example.com', 22), rsa.blob).status,
      'verified',
    );
    assert.equal(
      judgeHostKey(keysFor(lines, 'secret.lab.example.com', 22), rsa.blob).status,
      'unknown',
    );
  });

  it('matches names hashed by ssh-keygen -H, with and without a port', () => {
    const file = path.join(dir, 'hashed');
    writeFileSync(file, `web1.example.com ${ed.line}\n[10.0.0.6]:2222 ${ec.line}\n`);
    execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
    const text = readFileSync(file, 'utf8');
    assert.match(text, /^\|1\|/m);
    assert.ok(!text.includes('web1.example.com'));
    const lines = parseKnownHosts(text);
    assert.equal(judgeHostKey(keysFor(lines, 'web1.example.com', 22), ed.blob).status, 'verified');
    assert.equal(judgeHostKey(keysFor(lines, '10.0.0.6', 2222), ec.blob).status, 'verified');
    assert.equal(judgeHostKey(keysFor(lines, 'web2.example.com', 22), ed.blob).status, 'unknown');
  });

  it('calls a different key changed, naming both fingerprints, and never accepts a revoked key', () => {
    const lines = parseKnownHosts(
      `web1 ${ed.line}\n@revoked web2 ${other.line}\nweb2 ${other.line}\n`,
    );
    const changed = judgeHostKey(keysFor(lines, 'web1', 22), other.blob);
    assert.deepEqual(changed, {
      status: 'changed',
      fingerprint: other.sshKeygenFp,
      expected: [ed.sshKeygenFp],
    });
    assert.equal(judgeHostKey(keysFor(lines, 'web2', 22), other.blob).status, 'revoked');
  });

  it('offers only the key algorithms known_hosts has for a host, and writes TOFU lines OpenSSH reads', () => {
    const lines = parseKnownHosts(`h ${rsa.line}\nh ${ed.line}\n`);
    assert.deepEqual(algorithmsFor(keysFor(lines, 'h', 22)), [
      'rsa-sha2-512',
      'rsa-sha2-256',
      'ssh-rsa',
      'ssh-ed25519',
    ]);
    const file = path.join(dir, 'tofu');
    writeFileSync(file, knownHostsLine('127.0.0.1', 2200, ec.blob));
    // ssh-keygen -F finds the host by the same lookup name ssh would use.
    const found = execFileSync('ssh-keygen', ['-F', '[127.0.0.1]:2200', '-f', file]).toString();
    assert.match(found, /ecdsa-sha2-nistp256/);
  });
});

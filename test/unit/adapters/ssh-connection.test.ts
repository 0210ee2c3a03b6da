import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import ssh2, { type ParsedKey } from 'ssh2';
import {
  connectHost,
  HostKeyRefused,
  type ConnectOptions,
} from '../../../adapters/rmm/ssh/connection.js';
import type { InventoryHost } from '../../../adapters/rmm/ssh/inventory.js';
import { fingerprint, knownHostsLine } from '../../../adapters/rmm/ssh/known-hosts.js';
import { ConnectionPool } from '../../../adapters/rmm/ssh/pool.js';

/**
 * The connection layer against a real SSH server on 127.0.0.1: ssh2's own Server (a full
 * SSH-2 implementation; publickey auth verified as in ssh2's README server example). Its exec
 * handler stands in for sudo(8) with `-S -p ""` (password read from the first line of stdin,
 * no prompt) and records what arrived, so the tests can see what the adapter sends.
 */

// ssh2 is CommonJS; Node finds Client among its named exports but not Server.
const { Server, utils } = ssh2;
const dir = mkdtempSync(path.join(tmpdir(), 'patchops-sshconn-'));
const hostKey = utils.generateKeyPairSync('ed25519');
const clientKey = utils.generateKeyPairSync('ed25519');
const keyFile = path.join(dir, 'id_ed25519');
writeFileSync(keyFile, clientKey.private);
const parse = (k: string): ParsedKey => {
  const p = utils.parseKey(k);
  if (p instanceof Error) throw p;
  return p;
};
const allowed = parse(clientKey.public);
const hostBlob = parse(hostKey.public).getPublicSSH();
const PASSWORD = 'correct horse battery staple';

interface Seen {
  connections: number;
  running: number;
  maxRunning: number;
  auths: number;
  commands: string[];
  stdin: string[];
}

describe('SSH connection (real SSH server on loopback)', () => {
  let server: InstanceType<typeof Server>;
  let port: number;
  const seen: Seen = {
    connections: 0,
    running: 0,
    maxRunning: 0,
    auths: 0,
    commands: [],
    stdin: [],
  };

  before(async () => {
    server = new Server({ hostKeys: [hostKey.private] }, (client) => {
      seen.connections++;
      client.on('authentication', (ctx) => {
        seen.auths++;
        if (ctx.method !== 'publickey' || !ctx.key.data.equals(allowed.getPublicSSH()))
          return ctx.reject(['publickey']);
        if (
          ctx.signature &&
          ctx.blob &&
          allowed.verify(ctx.blob, ctx.signature, ctx.hashAlgo) !== true
        )
          return ctx.reject(['publickey']);
        ctx.accept();
      });
      client.on('ready', () => {
        client.on('session', (accept) => {
          accept().on('exec', (acceptExec, _reject, info) => {
            const stream = acceptExec();
            seen.commands.push(info.command);
            let input = '';
            stream.on('data', (d: Buffer) => (input += d.toString()));
            stream.on('end', () => {
              seen.stdin.push(input);
              if (info.command.startsWith('sh -c ') && info.command.includes('sleep')) {
                // A slow command, to see how many run at once.
                seen.running++;
                seen.maxRunning = Math.max(seen.maxRunning, seen.running);
                setTimeout(() => {
                  seen.running--;
                  stream.exit(0);
                  stream.end();
                }, 100);
                return;
              }
              const sudo = info.command.startsWith('sudo -S -p "" -- sh -c ');
              const ok = sudo && input.split('\n')[0] === PASSWORD;
              if (ok) stream.write('0\n');
              else stream.stderr.write('sudo: 1 incorrect password attempt\n');
              stream.exit(ok ? 0 : 1);
              stream.end();
            });
          });
        });
      });
      client.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(() => server.close());

  const host = (over: Partial<InventoryHost> = {}): InventoryHost =>
    ({
      deviceId: 'ssh:acme:box',
      clientId: 'acme',
      siteId: 'acme/hq',
      name: 'box',
      address: '127.0.0.1',
      port,
      user: 'patchops',
      keyFile,
      agent: false,
      sudo: true,
      sudoPasswordEnv: 'BOX_SUDO_PASSWORD',
      ...over,
    }) as InventoryHost;
  const options = (knownHostsPath: string, over: Partial<ConnectOptions> = {}): ConnectOptions => ({
    knownHostsPath,
    trustOnFirstUse: false,
    connectTimeoutMs: 5000,
    env: { BOX_SUDO_PASSWORD: PASSWORD },
    ...over,
  });

  it('refuses an unknown host key before authenticating, naming the fingerprint', async () => {
    const kh = path.join(dir, 'empty_known_hosts');
    writeFileSync(kh, '');
    const authsBefore = seen.auths;
    await assert.rejects(connectHost(host(), options(kh)), (err: unknown) => {
      assert.ok(err instanceof HostKeyRefused);
      assert.equal(err.code, 'AUTH_FAILED');
      assert.equal(err.verdict.status, 'unknown');
      assert.ok(err.message.includes(fingerprint(hostBlob)));
      assert.ok(!err.message.includes(PASSWORD));
      return true;
    });
    assert.equal(seen.auths, authsBefore); // no key, no password was offered to it
  });

  it('trusts on first use only when configured, then verifies the recorded key', async () => {
    const kh = path.join(dir, 'tofu_known_hosts');
    writeFileSync(kh, '');
    const conn = await connectHost(host(), options(kh, { trustOnFirstUse: true }));
    assert.equal(conn.verdict.status, 'unknown');
    conn.close();
    assert.equal(readFileSync(kh, 'utf8'), knownHostsLine('127.0.0.1', port, hostBlob));
    const again = await connectHost(host(), options(kh));
    assert.equal(again.verdict.status, 'verified');
    again.close();
  });

  it('sends the sudo password on stdin, never on the command line', async () => {
    const kh = path.join(dir, 'known_hosts');
    writeFileSync(kh, knownHostsLine('127.0.0.1', port, hostBlob));
    const conn = await connectHost(host(), options(kh));
    try {
      const r = await conn.exec('id -u', 5000);
      assert.deepEqual(r, { code: 0, stdout: '0\n', stderr: '' });
      const cmd = seen.commands.at(-1) ?? '';
      assert.equal(cmd, `sudo -S -p "" -- sh -c 'id -u'`);
      assert.ok(!cmd.includes(PASSWORD));
      assert.equal(seen.stdin.at(-1), `${PASSWORD}\n`);
    } finally {
      conn.close();
    }
  });

  it('names a missing sudo password variable without guessing, and root needs no sudo', async () => {
    const kh = path.join(dir, 'known_hosts');
    await assert.rejects(connectHost(host(), options(kh, { env: {} })), {
      code: 'CONFIG_INVALID',
      message: /BOX_SUDO_PASSWORD is not set/,
    });
    const conn = await connectHost(host({ user: 'root', sudo: false }), options(kh, { env: {} }));
    try {
      await conn.exec("echo 'it''s'", 5000);
      assert.equal(seen.commands.at(-1), `sh -c 'echo '\\''it'\\'''\\''s'\\'''`);
    } finally {
      conn.close();
    }
  });

  it('reports a refused login as AUTH_FAILED and a closed port as DEVICE_OFFLINE', async () => {
    const kh = path.join(dir, 'known_hosts');
    const wrongKey = path.join(dir, 'wrong');
    writeFileSync(wrongKey, utils.generateKeyPairSync('ed25519').private);
    await assert.rejects(connectHost(host({ keyFile: wrongKey }), options(kh)), {
      code: 'AUTH_FAILED',
      message: /was refused/,
    });
    const closed = new Server({ hostKeys: [hostKey.private] }, () => undefined);
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const freePort = (closed.address() as AddressInfo).port;
    closed.close();
    await assert.rejects(connectHost(host({ port: freePort }), options(kh)), {
      code: 'DEVICE_OFFLINE',
    });
  });

  it('the pool reuses one connection per host and caps commands running at once', async () => {
    const kh = path.join(dir, 'known_hosts');
    const pool = new ConnectionPool(options(kh, { env: {} }), 2, 60_000);
    const before = seen.connections;
    try {
      const root = host({ user: 'root', sudo: false });
      const results = await Promise.all(
        Array.from({ length: 6 }, () => pool.exec(root, 'sleep 1', 5000)),
      );
      assert.ok(results.every((r) => r.code === 0));
      assert.equal(seen.connections - before, 1);
      assert.equal(seen.maxRunning, 2);
    } finally {
      pool.close();
    }
  });
});

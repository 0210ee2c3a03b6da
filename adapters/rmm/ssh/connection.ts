import { appendFileSync, readFileSync } from 'node:fs';
import { Client, type ConnectConfig } from 'ssh2';
import { RmmError } from '../types.js';
import type { InventoryHost } from './inventory.js';
import {
  algorithmsFor,
  judgeHostKey,
  keysFor,
  knownHostsLine,
  parseKnownHosts,
  type HostKeyVerdict,
} from './known-hosts.js';

/**
 * One verified SSH connection to a host, built on ssh2's Client. The host key is checked
 * against known_hosts inside the handshake (ssh2's hostVerifier), so nothing is sent to a
 * host whose key is unknown or changed. Secrets (key passphrase, sudo password) are read
 * from the environment variables the inventory names and never appear in messages.
 */

export interface ConnectOptions {
  knownHostsPath: string;
  /** Accept and record the key of a host known_hosts does not list yet. */
  trustOnFirstUse: boolean;
  connectTimeoutMs: number;
  env: Readonly<Record<string, string | undefined>>;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface HostConnection {
  readonly client: Client;
  readonly verdict: HostKeyVerdict;
  /** Runs a shell script as root (through sudo when the inventory says so). */
  exec(script: string, timeoutMs: number): Promise<ExecResult>;
  close(): void;
}

export const shellQuote = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`;

/** The host's key was not accepted; `verdict` says why, for doctor. */
export class HostKeyRefused extends RmmError {
  constructor(
    readonly verdict: HostKeyVerdict,
    message: string,
  ) {
    super('AUTH_FAILED', message);
  }
}

function hostKeyError(host: InventoryHost, v: HostKeyVerdict, knownHostsPath: string): RmmError {
  const who = `${host.name} (${host.address}:${host.port})`;
  if (v.status === 'changed') {
    return new HostKeyRefused(
      v,
      `Host key of ${who} CHANGED: it presented ${v.fingerprint}, ${knownHostsPath} expects ${v.expected.join(' or ')}. Refused; nothing was run. If the host was rebuilt, verify the new key out of band and replace its line in ${knownHostsPath}`,
    );
  }
  if (v.status === 'revoked') {
    return new HostKeyRefused(
      v,
      `Host key ${v.fingerprint} of ${who} is marked @revoked in ${knownHostsPath}. Refused; nothing was run`,
    );
  }
  return new HostKeyRefused(
    v,
    `Host key of ${who} is unknown: ${v.fingerprint} is not in ${knownHostsPath}. Refused; nothing was run. Verify the fingerprint and add the host (ssh-keyscan -p ${host.port} ${host.address} >> ${knownHostsPath}), or set PATCHOPS_SSH_TRUST_ON_FIRST_USE=true`,
  );
}

function readSecret(
  env: ConnectOptions['env'],
  name: string | undefined,
  what: string,
): string | undefined {
  if (name === undefined) return undefined;
  const v = env[name];
  if (v === undefined || v === '') {
    throw new RmmError('CONFIG_INVALID', `${what}: environment variable ${name} is not set`);
  }
  return v;
}

function authConfig(host: InventoryHost, o: ConnectOptions): Partial<ConnectConfig> {
  if (host.agent) {
    const sock = o.env.SSH_AUTH_SOCK;
    if (!sock)
      throw new RmmError(
        'CONFIG_INVALID',
        `Host ${host.name} uses agent: true but SSH_AUTH_SOCK is not set`,
      );
    return { agent: sock };
  }
  let privateKey: Buffer;
  try {
    privateKey = readFileSync(host.keyFile ?? '');
  } catch (e) {
    throw new RmmError(
      'CONFIG_INVALID',
      `Host ${host.name}: cannot read keyFile ${host.keyFile ?? ''} (${(e as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  const passphrase = readSecret(o.env, host.keyPassphraseEnv, `Host ${host.name} keyPassphraseEnv`);
  return { privateKey, ...(passphrase ? { passphrase } : {}) };
}

/** Opens and verifies a connection; throws AUTH_FAILED, DEVICE_OFFLINE or CONFIG_INVALID. */
export async function connectHost(host: InventoryHost, o: ConnectOptions): Promise<HostConnection> {
  let known;
  try {
    known = keysFor(
      parseKnownHosts(readFileSync(o.knownHostsPath, 'utf8')),
      host.address,
      host.port,
    );
  } catch (e) {
    throw new RmmError(
      'CONFIG_INVALID',
      `Cannot read known_hosts ${o.knownHostsPath} (${(e as NodeJS.ErrnoException).code ?? 'error'}); set PATCHOPS_SSH_KNOWN_HOSTS to a readable file`,
    );
  }
  const auth = authConfig(host, o);
  const sudoPassword = host.sudo
    ? readSecret(o.env, host.sudoPasswordEnv, `Host ${host.name} sudoPasswordEnv`)
    : undefined;
  const serverHostKey = algorithmsFor(known);
  return new Promise<HostConnection>((resolve, reject) => {
    const client = new Client();
    let verdict: HostKeyVerdict | undefined;
    let settled = false;
    const fail = (err: RmmError): void => {
      if (settled) return;
      settled = true;
      client.end();
      reject(err);
    };
    client.on('ready', () => {
      if (settled || !verdict) return;
      settled = true;
      resolve(wrap(client, verdict, host, sudoPassword));
    });
    client.on('error', (err: Error & { level?: string; code?: string }) => {
      if (
        verdict &&
        verdict.status !== 'verified' &&
        !(verdict.status === 'unknown' && o.trustOnFirstUse)
      ) {
        return fail(hostKeyError(host, verdict, o.knownHostsPath));
      }
      if (err.level === 'client-authentication') {
        return fail(
          new RmmError(
            'AUTH_FAILED',
            `SSH login to ${host.name} (${host.address}:${host.port}) as ${host.user} was refused: the key/agent was not accepted`,
          ),
        );
      }
      fail(
        new RmmError(
          'DEVICE_OFFLINE',
          `Cannot reach ${host.name} (${host.address}:${host.port}) over SSH: ${err.code ?? err.message}`,
          { cause: err },
        ),
      );
    });
    client.on('close', () =>
      fail(
        new RmmError(
          'DEVICE_OFFLINE',
          `${host.name} (${host.address}:${host.port}) closed the SSH connection during set-up`,
        ),
      ),
    );
    client.connect({
      host: host.address,
      port: host.port,
      username: host.user,
      readyTimeout: o.connectTimeoutMs,
      keepaliveInterval: 15_000,
      ...auth,
      ...(serverHostKey.length > 0
        ? { algorithms: { serverHostKey: serverHostKey as never } }
        : {}),
      hostVerifier: (key: Buffer) => {
        verdict = judgeHostKey(known, key);
        if (verdict.status === 'verified') return true;
        if (verdict.status === 'unknown' && o.trustOnFirstUse) {
          appendFileSync(o.knownHostsPath, knownHostsLine(host.address, host.port, key));
          return true;
        }
        return false;
      },
    });
  });
}

function wrap(
  client: Client,
  verdict: HostKeyVerdict,
  host: InventoryHost,
  sudoPassword: string | undefined,
): HostConnection {
  const root = host.user === 'root' || !host.sudo;
  return {
    client,
    verdict,
    close: () => client.end(),
    exec: (script, timeoutMs) =>
      new Promise<ExecResult>((resolve, reject) => {
        const body = `sh -c ${shellQuote(script)}`;
        const command = root
          ? body
          : `sudo ${sudoPassword === undefined ? '-n' : '-S -p ""'} -- ${body}`;
        client.exec(command, (err, stream) => {
          if (err) {
            reject(
              new RmmError(
                'DEVICE_OFFLINE',
                `${host.name}: could not open an SSH channel (${err.message})`,
                { cause: err },
              ),
            );
            return;
          }
          const out: Buffer[] = [];
          const errOut: Buffer[] = [];
          const timer = setTimeout(() => {
            stream.close();
            reject(
              new RmmError(
                'UNAVAILABLE',
                `${host.name}: a command took longer than ${timeoutMs} ms; it was abandoned`,
              ),
            );
          }, timeoutMs);
          stream.on('data', (d: Buffer) => out.push(d));
          stream.stderr.on('data', (d: Buffer) => errOut.push(d));
          stream.on('close', (code: number | null, signal?: string) => {
            clearTimeout(timer);
            resolve({
              code: code ?? (signal ? 255 : 0),
              stdout: Buffer.concat(out).toString('utf8'),
              stderr: Buffer.concat(errOut).toString('utf8'),
            });
          });
          if (!root && sudoPassword !== undefined) stream.write(`${sudoPassword}\n`);
          stream.end();
        });
      }),
  };
}

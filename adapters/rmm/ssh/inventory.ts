import { readYaml } from '../../../domain/yaml-text.js';
import { z } from 'zod';
import { criticalitySchema, type Client, type Device, type Site } from '../../../domain/model.js';
import { formatPath } from '../../../domain/policy/parse.js';

/**
 * The SSH adapter's fleet: a YAML file of clients → sites → hosts (the README shows one).
 * Parsed once; every problem is reported at once, each naming the file and the field, as
 * policy files are. Secrets never live here: a sudo password is named by the environment
 * variable that holds it.
 */

const name = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'expected letters, digits, ".", "_" or "-", e.g. "web-1"');

const timezone = z.string().refine(
  (tz) => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  },
  { message: 'expected an IANA time zone, e.g. "Europe/Berlin"' },
);

const envName = z
  .string()
  .regex(
    /^[A-Z_][A-Z0-9_]*$/,
    'expected the NAME of an environment variable, e.g. WEB1_SUDO_PASSWORD',
  );

/** Connection settings a host may take from `defaults`. */
const access = {
  port: z.number().int().min(1).max(65535).optional(),
  user: z.string().min(1).optional(),
  /** Private key file (OpenSSH or PEM format). */
  keyFile: z.string().min(1).optional(),
  /** Environment variable holding the key file's passphrase. */
  keyPassphraseEnv: envName.optional(),
  /** Use the SSH agent at SSH_AUTH_SOCK instead of a key file. */
  agent: z.boolean().optional(),
  /** Run commands through sudo (needed unless user is root). */
  sudo: z.boolean().optional(),
  /** Environment variable holding the sudo password; omit for passwordless sudo. */
  sudoPasswordEnv: envName.optional(),
};

const hostSchema = z.strictObject({
  name,
  address: z.string().min(1),
  ...access,
  tags: z.array(z.string().min(1)).default([]),
  criticality: criticalitySchema.default('medium'),
  internetExposed: z.boolean().default(false),
  timezone: timezone.optional(),
  /** What the host runs, e.g. "Debian 12"; learnt from /etc/os-release when omitted. */
  os: z.string().min(1).optional(),
});

const siteSchema = z.strictObject({
  name: z.string().min(1).optional(),
  timezone: timezone.default('UTC'),
  hosts: z.array(hostSchema).min(1, 'a site needs at least one host'),
});

const clientSchema = z.strictObject({
  name: z.string().min(1).optional(),
  sites: z.record(name, siteSchema),
});

export const inventorySchema = z.strictObject({
  defaults: z.strictObject(access).default({}),
  clients: z.record(name, clientSchema),
});

/** One host, with defaults applied and access checked. */
export interface InventoryHost {
  deviceId: string;
  clientId: string;
  siteId: string;
  name: string;
  address: string;
  port: number;
  user: string;
  keyFile?: string;
  keyPassphraseEnv?: string;
  agent: boolean;
  sudo: boolean;
  sudoPasswordEnv?: string;
  device: Omit<Device, 'online'>;
}

export interface Inventory {
  clients: Client[];
  sites: Site[];
  hosts: InventoryHost[];
  byDeviceId: ReadonlyMap<string, InventoryHost>;
}

export type ParseInventoryResult =
  { ok: true; inventory: Inventory } | { ok: false; errors: string[] };

/** `ssh:<client>:<host>`: stable across restarts and inventory reorderings. */
export const deviceIdOf = (clientId: string, hostName: string): string =>
  `ssh:${clientId}:${hostName}`;

export function parseInventory(text: string, fileName: string): ParseInventoryResult {
  const read = readYaml(text, fileName);
  if (!read.ok) return read;
  const data = read.data;
  if (data === null || data === undefined) {
    return { ok: false, errors: [`${fileName}: the file is empty; it needs "clients"`] };
  }
  const parsed = inventorySchema.safeParse(data);
  if (!parsed.success) {
    return {
      ok: false,
      errors: parsed.error.issues.map((i) => {
        const where = formatPath(i.path);
        const what =
          i.code === 'invalid_type' && i.input === undefined
            ? `missing; expected ${i.expected}`
            : i.message;
        return `${fileName}: ${where === '' ? '' : `${where}: `}${what}`;
      }),
    };
  }
  return build(parsed.data, fileName);
}

function build(doc: z.infer<typeof inventorySchema>, fileName: string): ParseInventoryResult {
  const errors: string[] = [];
  const clients: Client[] = [];
  const sites: Site[] = [];
  const hosts: InventoryHost[] = [];
  const d = doc.defaults;
  for (const [clientId, client] of Object.entries(doc.clients)) {
    clients.push({ id: clientId, name: client.name ?? clientId });
    const seen = new Set<string>();
    for (const [siteId, site] of Object.entries(client.sites)) {
      sites.push({
        id: `${clientId}/${siteId}`,
        clientId,
        name: site.name ?? siteId,
        timezone: site.timezone,
      });
      site.hosts.forEach((h, i) => {
        const at = `clients.${clientId}.sites.${siteId}.hosts[${i}]`;
        if (seen.has(h.name))
          errors.push(
            `${fileName}: ${at}.name: "${h.name}" is used twice in client "${clientId}"; host names must be unique per client`,
          );
        seen.add(h.name);
        const user = h.user ?? d.user;
        const keyFile = h.keyFile ?? d.keyFile;
        const agent = h.agent ?? d.agent ?? false;
        const sudo = h.sudo ?? d.sudo ?? false;
        if (!user) errors.push(`${fileName}: ${at}.user: missing; set it here or in defaults.user`);
        if (!keyFile && !agent) {
          errors.push(
            `${fileName}: ${at}.keyFile: missing; set keyFile (here or in defaults) or agent: true to use SSH_AUTH_SOCK`,
          );
        }
        if (user && user !== 'root' && !sudo) {
          errors.push(
            `${fileName}: ${at}.sudo: user "${user}" is not root; set sudo: true (patching needs root)`,
          );
        }
        const deviceId = deviceIdOf(clientId, h.name);
        hosts.push({
          deviceId,
          clientId,
          siteId: `${clientId}/${siteId}`,
          name: h.name,
          address: h.address,
          port: h.port ?? d.port ?? 22,
          user: user ?? 'root',
          ...(keyFile ? { keyFile } : {}),
          ...((h.keyPassphraseEnv ?? d.keyPassphraseEnv)
            ? { keyPassphraseEnv: h.keyPassphraseEnv ?? d.keyPassphraseEnv }
            : {}),
          agent,
          sudo,
          ...((h.sudoPasswordEnv ?? d.sudoPasswordEnv)
            ? { sudoPasswordEnv: h.sudoPasswordEnv ?? d.sudoPasswordEnv }
            : {}),
          device: {
            id: deviceId,
            clientId,
            siteId: `${clientId}/${siteId}`,
            hostname: h.name,
            osFamily: 'linux',
            osVersion: h.os ?? 'Linux',
            tags: h.tags,
            criticality: h.criticality,
            internetExposed: h.internetExposed,
            timezone: h.timezone ?? null,
            rmmKind: 'ssh',
            rmmRef: `${h.address}:${h.port ?? d.port ?? 22}`,
          },
        });
      });
    }
  }
  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    inventory: { clients, sites, hosts, byDeviceId: new Map(hosts.map((h) => [h.deviceId, h])) },
  };
}

import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { crc32, inflateSync } from 'node:zlib';
import { Command } from 'commander';
import { strFromU8, unzipSync } from 'fflate';
import { buildTeamsPackage } from '../../bot/teams/package/build.js';
import { ACCENT_COLOR } from '../../bot/teams/package/icons.js';
import {
  BOT_COMMANDS,
  DEFAULT_DEVELOPER,
  LIMITS,
  MANIFEST_SCHEMA_URL,
  MANIFEST_VERSION,
  TeamsManifestError,
  buildTeamsManifest,
  type TeamsManifest,
} from '../../bot/teams/package/manifest.js';
import { registerTeamsCommands } from '../../cli/commands/teams-package.js';
import { loadConfig, type Config } from '../../cli/config.js';
import { CliError } from '../../cli/errors.js';

const BOT_ID = '6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f';

/** Just enough of a PNG reader to check ours: signature, chunk CRCs, IHDR, inflated IDAT. */
function decodePng(bytes: Uint8Array) {
  const buf = Buffer.from(bytes);
  assert.deepEqual([...buf.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  let off = 8;
  let ihdr: Buffer | undefined;
  const idat: Buffer[] = [];
  for (;;) {
    const len = buf.readUInt32BE(off);
    const type = buf.toString('latin1', off + 4, off + 8);
    const data = buf.subarray(off + 8, off + 8 + len);
    assert.equal(buf.readUInt32BE(off + 8 + len), crc32(buf.subarray(off + 4, off + 8 + len)));
    if (type === 'IHDR') ihdr = data;
    if (type === 'IDAT') idat.push(data);
    off += 12 + len;
    if (type === 'IEND') break;
  }
  assert.ok(ihdr, 'IHDR chunk');
  const width = ihdr.readUInt32BE(0);
  const height = ihdr.readUInt32BE(4);
  const [bitDepth = 0, colorType = 0, , , interlace] = ihdr.subarray(8);
  assert.equal(interlace, 0);
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * 4;
  const pixels = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    // Our encoder writes filter type 0 (None) on every row, so rows are the pixels verbatim.
    assert.equal(raw[y * (stride + 1)], 0, `row ${y} filter type`);
    pixels.set(raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1)), y * stride);
  }
  return { width, height, bitDepth, colorType, pixels };
}

function unpack(zip: Uint8Array) {
  const files = unzipSync(zip);
  const manifestFile = files['manifest.json'];
  assert.ok(manifestFile, 'manifest.json at the zip root');
  return { files, manifest: JSON.parse(strFromU8(manifestFile)) as TeamsManifest };
}

describe('Teams app package', () => {
  const { files, manifest } = unpack(buildTeamsPackage({ botAppId: BOT_ID }));

  it('holds exactly manifest.json and the two icons it names, at the root', () => {
    assert.deepEqual(Object.keys(files).sort(), ['color.png', 'manifest.json', 'outline.png']);
    assert.deepEqual(manifest.icons, { color: 'color.png', outline: 'outline.png' });
  });

  it('uses one manifest version in both $schema and manifestVersion', () => {
    assert.equal(manifest.manifestVersion, MANIFEST_VERSION);
    assert.equal(manifest.$schema, MANIFEST_SCHEMA_URL);
    assert.ok(manifest.$schema.includes(`/teams/v${manifest.manifestVersion}/`));
    assert.equal('packageName' in manifest, false, 'v1.17+ schemas reject packageName');
  });

  it('points the bot, and by default the app id, at the bot app id', () => {
    assert.equal(manifest.bots[0].botId, BOT_ID);
    assert.equal(manifest.id, BOT_ID);
    assert.deepEqual(manifest.bots[0].scopes, ['personal', 'team', 'groupChat']);
    assert.deepEqual(manifest.permissions, ['identity', 'messageTeamMembers']);
    assert.equal(manifest.accentColor, ACCENT_COLOR);
  });

  it('keeps command lists and strings within the Teams limits', () => {
    const lists = manifest.bots[0].commandLists;
    assert.ok(lists.length >= 1 && lists.length <= LIMITS.commandLists);
    for (const list of lists) {
      assert.ok(list.commands.length <= LIMITS.commandsPerList);
      const titles = list.commands.map((c) => c.title);
      assert.equal(new Set(titles).size, titles.length, 'no duplicate commands');
      for (const c of list.commands) {
        assert.ok(c.title.length <= LIMITS.commandTitle, c.title);
        assert.ok(c.description.length <= LIMITS.commandDescription, c.title);
      }
    }
    const all = 'help status scan rollout approve reject defer pause resume cancel report';
    assert.deepEqual(BOT_COMMANDS.map((c) => c.title).join(' '), all);
    const menu = lists[0]?.commands.map((c) => c.title) ?? [];
    for (const must of ['help', 'status', 'approve', 'reject', 'defer', 'pause', 'resume'])
      assert.ok(menu.includes(must), must);
    assert.ok(manifest.name.short.length <= LIMITS.shortName);
    assert.ok(manifest.description.short.length <= LIMITS.shortDescription);
  });

  it('ships a 192×192 RGBA colour icon, opaque, accent background with a glyph', () => {
    const png = decodePng(files['color.png']!);
    assert.deepEqual([png.width, png.height, png.bitDepth, png.colorType], [192, 192, 8, 6]);
    const accent = [1, 3, 5].map((i) => Number.parseInt(ACCENT_COLOR.slice(i, i + 2), 16));
    assert.deepEqual([...png.pixels.subarray(0, 4)], [...accent, 255]);
    const centre = (70 * 192 + 96) * 4; // inside the shield, above the check mark
    assert.deepEqual([...png.pixels.subarray(centre, centre + 4)], [255, 255, 255, 255]);
    for (let i = 3; i < png.pixels.length; i += 4) assert.equal(png.pixels[i], 255);
  });

  it('ships a 32×32 RGBA outline icon: white on transparent and nothing else', () => {
    const png = decodePng(files['outline.png']!);
    assert.deepEqual([png.width, png.height, png.bitDepth, png.colorType], [32, 32, 8, 6]);
    let opaque = 0;
    for (let i = 0; i < png.pixels.length; i += 4) {
      const [r, g, b, a] = png.pixels.subarray(i, i + 4);
      if (a === 0) continue;
      assert.deepEqual([r, g, b], [255, 255, 255], `pixel ${i / 4} is not white`);
      if (a === 255) opaque++;
    }
    assert.equal(png.pixels[3], 0, 'corner is transparent');
    assert.ok(opaque > 200, 'the glyph is visible');
  });

  it('is reproducible: the same options give the same bytes', () => {
    assert.deepEqual(
      buildTeamsPackage({ botAppId: BOT_ID }),
      buildTeamsPackage({ botAppId: BOT_ID }),
    );
  });
});

describe('buildTeamsManifest options', () => {
  const problem = (options: Parameters<typeof buildTeamsManifest>[0]) => {
    try {
      buildTeamsManifest(options);
    } catch (err) {
      assert.ok(err instanceof TeamsManifestError);
      return err.message;
    }
    assert.fail('expected a TeamsManifestError');
  };

  it('names --app-id when the bot id is not a GUID', () => {
    assert.match(problem({ botAppId: 'my-bot' }), /^--app-id: .*must be a GUID/);
  });

  it('names --name when the name is longer than Teams allows', () => {
    assert.match(problem({ botAppId: BOT_ID, name: 'x'.repeat(31) }), /^--name: .*at most 30/);
  });

  it('names --version and --valid-domain with what is expected', () => {
    assert.match(problem({ botAppId: BOT_ID, version: '1.0' }), /^--version: expected MAJOR/);
    assert.match(
      problem({ botAppId: BOT_ID, validDomains: ['https://bot.example.com'] }),
      /^--valid-domain \(value 1\): give the host only/,
    );
    const website = { ...DEFAULT_DEVELOPER, websiteUrl: 'http://x', privacyUrl: 'http://x' };
    assert.equal(
      problem({ botAppId: BOT_ID, developer: website }),
      '--website: must be an https:// URL',
    );
    const many = Array.from({ length: 17 }, (_, i) => `h${i}.example.com`);
    assert.match(problem({ botAppId: BOT_ID, validDomains: many }), /^--valid-domain: .*16/);
  });

  it('lets the Teams app id differ from the bot id when given', () => {
    const id = '0d9e8f7a-1b2c-4d3e-8f4a-5b6c7d8e9f0a';
    const m = buildTeamsManifest({ botAppId: BOT_ID.toUpperCase(), teamsAppId: id });
    assert.equal(m.id, id);
    assert.equal(m.bots[0].botId, BOT_ID);
  });
});

describe('patchops teams package', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'patchops-teams-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  const plainConfig = (): Config => loadConfig({}, dir);
  async function run(args: string[], config = plainConfig): Promise<string> {
    const program = new Command().name('patchops').exitOverride();
    registerTeamsCommands(program, config);
    const write = process.stdout.write.bind(process.stdout);
    let out = '';
    process.stdout.write = (chunk: string | Uint8Array) => {
      out += String(chunk);
      return true;
    };
    try {
      await program.parseAsync(['node', 'patchops', 'teams', 'package', ...args]);
    } finally {
      process.stdout.write = write;
    }
    return out;
  }

  it('writes the zip to --out and prints its path and a summary', async () => {
    const file = path.join(dir, 'app.zip');
    const out = await run(['--app-id', BOT_ID, '--out', file, '--name', 'Patch Desk']);
    const [first, second] = out.trimEnd().split('\n');
    assert.equal(first, file);
    assert.match(second ?? '', /"Patch Desk" 1\.0\.0 .*manifest v1\.19.*typed only: cancel/);
    const { manifest } = unpack(readFileSync(file));
    assert.equal(manifest.name.short, 'Patch Desk');
    assert.equal(manifest.bots[0].botId, BOT_ID);
    assert.deepEqual(readdirSync(dir), ['app.zip'], 'no temporary file left behind');
  });

  it('passes --version and --valid-domain through', async () => {
    const file = path.join(dir, 'domains.zip');
    const domains = ['bot.example.com', '*.example.org'];
    await run([
      '--app-id',
      BOT_ID,
      '--out',
      file,
      '--version',
      '2.3.4',
      '--valid-domain',
      ...domains,
    ]);
    const { manifest } = unpack(readFileSync(file));
    assert.equal(manifest.version, '2.3.4');
    assert.deepEqual(manifest.validDomains, domains);
  });

  const failsWith = (args: string[], message: RegExp) =>
    assert.rejects(run(args), (err) => {
      assert.ok(err instanceof CliError);
      assert.equal(err.exitCode, 2);
      assert.match(err.code, /^TEAMS_/);
      assert.match(err.message, message);
      return true;
    });

  it('fails with exit code 2 naming --app-id when it is missing or bad', async () => {
    const out = ['--out', path.join(dir, 'x.zip')];
    await failsWith(out, /^--app-id is required/);
    await failsWith(['--app-id', 'not-a-guid', ...out], /^--app-id: .*must be a GUID/);
  });

  it('takes the app id from config when the config carries one', async () => {
    const file = path.join(dir, 'configured.zip');
    await run(['--out', file], () =>
      loadConfig({ MICROSOFT_APP_ID: BOT_ID, MICROSOFT_APP_PASSWORD: 'secret' }, dir),
    );
    assert.equal(unpack(readFileSync(file)).manifest.bots[0].botId, BOT_ID);
  });

  it('fails naming --out when its folder does not exist', async () => {
    const out = ['--out', path.join(dir, 'nope', 'a.zip')];
    await failsWith(['--app-id', BOT_ID, ...out], /^--out: folder .* does not exist/);
  });
});

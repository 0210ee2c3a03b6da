/**
 * Replays recorded histories against the current workflow code (no server needed).
 *
 * test/fixtures/histories holds patchCycle and deviceRollout histories recorded by
 * test/fixtures/histories/record.ts twice: with the code before ring.ts gained
 * `patched('ring-failure-alert')` (`*-pre-failure-alert.json`) and with the current code
 * (`*-current.json`). Both sets must replay cleanly: a workflow change that alters the
 * commands of running workflows has to go behind patched(). Two negative controls show the
 * test can fail: an extra activity at the start of patchCycle, and the alert change with
 * patched() stubbed to always-true (as if the guard had never been written).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  bundleWorkflowCode,
  DefaultLogger,
  Runtime,
  Worker,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { WORKFLOWS_PATH } from '../../cli/worker.js';
import type { ManifestEntry } from '../fixtures/histories/record.js';
import { historyFromJSON, type History } from '../fixtures/histories/history-json.js';

const FIXTURES = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  'fixtures',
  'histories',
);
const BROKEN_WORKFLOWS = path.join(FIXTURES, 'broken-workflows.ts');
const UNPATCHED_API = path.join(FIXTURES, 'unpatched-workflow-api.ts');

// Core reports the expected nondeterminism of the negative controls at WARN: keep it quiet.
Runtime.install({
  logger: new DefaultLogger('ERROR'),
  telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } },
});

const manifest = JSON.parse(
  readFileSync(path.join(FIXTURES, 'manifest.json'), 'utf8'),
) as ManifestEntry[];

function load(file: string): History {
  return historyFromJSON(JSON.parse(readFileSync(path.join(FIXTURES, file), 'utf8')));
}

function entry(file: string): ManifestEntry {
  const e = manifest.find((m) => m.file === file);
  assert.ok(e, `${file} is not in manifest.json`);
  return e;
}

/** ids of the patches recorded in a history (core_patch markers). */
function patchMarkers(history: History): string[] {
  return (history.events ?? []).flatMap((e) => {
    const a = e.markerRecordedEventAttributes;
    if (a?.markerName !== 'core_patch') return [];
    const data = a.details?.['patch-data']?.payloads?.[0]?.data;
    return data ? [(JSON.parse(Buffer.from(data).toString('utf8')) as { id: string }).id] : [];
  });
}

const bundle = (workflowsPath: string, alias?: Record<string, string>) =>
  bundleWorkflowCode({
    workflowsPath,
    logger: new DefaultLogger('ERROR'),
    ...(alias && {
      webpackConfigHook: (config) => ({
        ...config,
        resolve: { ...config.resolve, alias: { ...config.resolve?.alias, ...alias } },
      }),
    }),
  });

const replay = (workflowBundle: WorkflowBundleWithSourceMap, file: string) =>
  Worker.runReplayHistory(
    { workflowBundle, replayName: `replay-${path.basename(file, '.json')}` },
    load(file),
    entry(file).workflowId,
  );

// A nondeterminism failure specifically, not any replay error (a broken fixture, a bundling
// problem), so the controls cannot pass for the wrong reason.
const isNondeterminism = (err: unknown) =>
  err instanceof DeterminismViolationError && /Nondeterminism error/.test(err.message);

describe('recorded histories replay against the current workflows', () => {
  let current: WorkflowBundleWithSourceMap;
  before(async () => {
    current = await bundle(WORKFLOWS_PATH);
  });

  it('every fixture is listed in the manifest and the other way round', () => {
    const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.json') && f !== 'manifest.json');
    assert.deepEqual(files.sort(), manifest.map((m) => m.file).sort());
    assert.ok(manifest.some((m) => m.file.endsWith('-pre-failure-alert.json')));
    assert.ok(manifest.some((m) => m.file.endsWith('-current.json')));
  });

  it('the fixtures exercise both sides of patched(ring-failure-alert)', () => {
    for (const m of manifest) {
      const markers = patchMarkers(load(m.file));
      assert.equal(
        markers.includes('ring-failure-alert'),
        m.ringFailureAlert &&
          m.workflowType === 'patchCycle' &&
          (m.scenario === 'gate-halt' || m.scenario === 'failures-complete'),
        `${m.file}: markers ${JSON.stringify(markers)}`,
      );
      assert.equal(m.file.endsWith('-current.json'), m.ringFailureAlert, m.file);
    }
  });

  for (const m of manifest) {
    it(`${m.file} (${m.workflowType}, ${m.events} events, recorded at ${m.recordedAt})`, async () => {
      await replay(current, m.file);
    });
  }
});

describe('negative controls: incompatible code fails to replay', () => {
  it('an extra activity at the start of patchCycle', async () => {
    const broken = await bundle(BROKEN_WORKFLOWS);
    for (const file of ['gate-halt-pre-failure-alert.json', 'happy-auto-current.json']) {
      await assert.rejects(replay(broken, file), isNondeterminism, file);
    }
    // deviceRollout is unchanged in that module: its histories still replay.
    await replay(broken, 'gate-halt-device-failed-pre-failure-alert.json');
  });

  it('the failure alert without patched() breaks histories recorded before it', async () => {
    const unpatched = await bundle(WORKFLOWS_PATH, { '@temporalio/workflow$': UNPATCHED_API });
    for (const file of [
      'gate-halt-pre-failure-alert.json',
      'failures-complete-pre-failure-alert.json',
    ]) {
      await assert.rejects(replay(unpatched, file), isNondeterminism, file);
    }
    // Without a failure the guarded call is never reached, so nothing changes there.
    await replay(unpatched, 'happy-auto-pre-failure-alert.json');
  });
});

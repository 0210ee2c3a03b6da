import { isFinal } from '../../domain/rollout-state.js';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { parsePolicy, type PolicyDocument } from '../../domain/policy/index.js';
import type { Store } from '../../store/index.js';
import type { patchCycle } from '../../workflows/index.js';
import { decideUpdate, progressQuery, type Progress } from '../../workflows/messages.js';
import { terminalLogs, type LogGate } from '../logger.js';
import { formatCompliance } from './lifecycle.js';

export const DEMO_APPROVER = 'demo';
/** Realistic but quick: scans take 1.5 s and install jobs 2.5 s of virtual time. */
export const DEMO_SIMULATOR = { latencyMs: { scan: 1_500, job: 2_500 } };
/** Offline demo devices are retried after this long (twice), then skipped. */
export const DEMO_OFFLINE_RETRY_MS = 10_000;

export function demoPolicy(): PolicyDocument {
  const file = new URL('../demo/demo-policy.yaml', import.meta.url);
  const r = parsePolicy(readFileSync(file, 'utf8'), 'cli/demo/demo-policy.yaml');
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return r.policy;
}

export interface DemoOptions {
  client: Client;
  taskQueue: string;
  store: Store;
  clients: string[];
  /** Approve as the demo user without asking (also what happens without a terminal). */
  yes: boolean;
  out: (line: string) => void;
}

const line = (p: Progress) => {
  const rings = p.rings.map(
    (r) =>
      `${r.name} ${r.succeeded + r.failed + r.skipped}/${r.total}${r.failed ? ` (${r.failed} failed)` : ''}`,
  );
  return `${p.rolloutId.padEnd(34)} ${(p.phase + (p.paused ? ' (paused)' : '')).padEnd(18)} ${rings.join('  ')}`;
};

/**
 * The `patchops dev` demo: one rollout per simulated client, live progress in the
 * terminal, approval asked at the terminal (or given as the demo user with --yes), and a
 * compliance table at the end.
 */
export async function runDemo(o: DemoOptions): Promise<void> {
  const stamp = new Date()
    .toISOString()
    .replace(/[-:.TZ]/g, '')
    .slice(0, 14);
  const policy = demoPolicy();
  const handles: WorkflowHandle<typeof patchCycle>[] = [];
  for (const clientId of o.clients) {
    handles.push(
      await o.client.workflow.start<typeof patchCycle>('patchCycle', {
        taskQueue: o.taskQueue,
        workflowId: `demo-${clientId}-${stamp}`,
        args: [
          {
            rolloutId: `demo-${clientId}-${stamp}`,
            clientId,
            startedBy: 'patchops dev',
            policyOverride: policy,
          },
        ],
      }),
    );
  }
  o.out(
    `Started ${handles.length} demo rollouts (scan → assess → approve → pilot → broad → verify → report).`,
  );
  const interactive = !o.yes && process.stdin.isTTY && process.stdout.isTTY;
  if (!o.yes && !interactive) {
    o.out(
      `No terminal to ask at: approve with \`patchops approve ROLLOUT --as ${DEMO_APPROVER}\`, or run \`patchops dev --yes\`.`,
    );
  }
  if (interactive)
    o.out(
      `Approvals are asked here (log output waits meanwhile); from another terminal use \`patchops approve ROLLOUT --as ${DEMO_APPROVER}\`: the demo policy's approver is "${DEMO_APPROVER}".`,
    );
  const asked = new Set<string>();
  const lastPhase = new Map<string, string>();
  let lastPrint = 0;
  for (;;) {
    const progress = await Promise.all(handles.map((h) => h.query(progressQuery)));
    // A line per rollout when its phase changes, and a progress block every 5 seconds.
    const tick = Date.now() - lastPrint >= 5_000;
    if (tick) lastPrint = Date.now();
    for (const p of progress) {
      if (tick || lastPhase.get(p.rolloutId) !== p.phase) o.out(line(p));
      lastPhase.set(p.rolloutId, p.phase);
      if (p.phase === 'awaiting_approval' && !asked.has(p.rolloutId) && (o.yes || interactive)) {
        asked.add(p.rolloutId);
        const handle = handles.find((h) => h.workflowId === p.rolloutId)!;
        await decide(handle, p, o, interactive);
      }
    }
    if (progress.every((p) => isFinal(p.phase))) break;
    await new Promise((r) => setTimeout(r, 1_000));
  }
  o.out('');
  o.out(formatCompliance(await o.store.compliance.snapshot()));
}

async function decide(
  handle: WorkflowHandle,
  p: Progress,
  o: DemoOptions,
  interactive: boolean,
): Promise<void> {
  let approve = true;
  if (interactive) {
    const devices = p.rings.reduce((n, r) => n + r.total, 0);
    const answer = await askAtTerminal(
      `Approve ${p.rolloutId} (${devices} devices in ${p.rings.length} rings) as ${DEMO_APPROVER}? [Y/n] `,
    );
    approve = !/^n/i.test(answer.trim());
  }
  const r = await handle.executeUpdate(decideUpdate, {
    args: [
      {
        decision: approve ? 'approve' : 'reject',
        approver: { id: DEMO_APPROVER, via: 'cli' },
        reason: 'patchops dev demo',
      },
    ],
  });
  o.out(`${p.rolloutId}: ${r.decision} by ${r.decidedBy}`);
}

/**
 * Asks one question on its own line: log output is held until it is answered (then written
 * below it), and the question starts on a fresh line.
 */
export async function askAtTerminal(
  question: string,
  io: {
    input: NodeJS.ReadableStream;
    output: NodeJS.WritableStream;
    gate: LogGate;
  } = { input: process.stdin, output: process.stdout, gate: terminalLogs },
): Promise<string> {
  return io.gate.hold(async () => {
    const rl = createInterface({ input: io.input, output: io.output });
    try {
      io.output.write('\n');
      return await rl.question(question);
    } finally {
      rl.close();
      // A terminal echoes the Enter that ends the answer; elsewhere the line is ended here.
      if (!(io.output as { isTTY?: boolean }).isTTY) io.output.write('\n');
    }
  });
}

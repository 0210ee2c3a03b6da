import { assessRisk } from '../domain/risk.js';
import {
  decideApproval,
  deferralAt,
  effectivePolicy,
  type PolicyDocument,
  type ResolvedPolicy,
} from '../domain/policy/index.js';
import type { Device, Patch } from '../domain/model.js';
import { assignRings } from '../domain/rings.js';
import type { DeviceOverrides, RolloutSettings, WindowRule } from '../domain/rollout-settings.js';
import type { ExcludedPatches, PlannedDevice, PlannedPatch } from '../store/index.js';
import type { ActivityDeps } from './index.js';
import { describeWindows } from '../domain/window-text.js';

export interface PlanResult {
  settings: RolloutSettings;
  /** Devices per ring, in ring order. */
  ringSizes: number[];
  needsApproval: boolean;
  summary: {
    devices: number;
    patches: number;
    rejected: number;
    deferred: number;
    needsApproval: number;
    auto: number;
    window: string;
  };
}

/** The workflow-facing settings of a resolved policy (durations already in ms). */
export function toSettings(
  p: ResolvedPolicy,
  timing: { jobPollMs: number; offlineRetryMs: number },
): RolloutSettings {
  return {
    rings: p.rings.map((r) => ({
      name: r.name,
      soakMs: r.soak,
      successThreshold: r.successThreshold,
      promotion: r.promotion,
      concurrency: r.concurrency,
    })),
    approvers: {
      cli: p.approvers.cli ?? [],
      slack: {
        users: p.approvers.slack?.users ?? [],
        usergroups: p.approvers.slack?.usergroups ?? [],
      },
      teams: {
        tenantId: p.approvers.teams?.tenantId ?? null,
        users: p.approvers.teams?.users ?? [],
      },
    },
    approvalTimeout: {
      afterMs: p.approvalTimeout.after,
      remindEveryMs: p.approvalTimeout.remindEvery,
      escalateAfterMs: p.approvalTimeout.escalateAfter ?? null,
      escalateTo: p.approvalTimeout.escalateTo ?? [],
      outcome: p.approvalTimeout.outcome,
    },
    reboot: {
      mode: p.reboot.mode,
      userDeferrals: p.reboot.userDeferrals,
      deferralIntervalMs: p.reboot.deferralInterval,
      deadlineMs: p.reboot.deadline,
    },
    circuitBreaker: {
      maxFailureRate: p.circuitBreaker.maxFailureRate,
      minSamples: p.circuitBreaker.minSamples,
    },
    windows: p.windows.map((w) => ({
      name: w.name,
      // The schema validated n as 1..5 | 'last'; its output type is wider.
      rule: w.rule as WindowRule,
      start: w.start,
      durationMs: w.duration,
      timezone: w.timezone,
    })),
    bypassWindows: false,
    jobPollMs: timing.jobPollMs,
    offlineRetries: 2,
    offlineRetryMs: timing.offlineRetryMs,
    uninstallOnFailure: p.rollback.onFailure === 'uninstall',
    tickets: {
      incidentOnFailure: p.tickets.incidentOnFailure,
      routing: {
        ...(p.tickets.assignmentGroup ? { assignmentGroup: p.tickets.assignmentGroup } : {}),
        ...(p.tickets.project ? { project: p.tickets.project } : {}),
        ...(p.tickets.repo ? { repo: p.tickets.repo } : {}),
        ...(p.tickets.labels ? { labels: p.tickets.labels } : {}),
      },
    },
  };
}

/**
 * The device-level settings (windows, reboot, rollback) where the device's own chain sets
 * them differently from the rollout's client-level settings; undefined when none differs.
 */
export function deviceOverrides(
  device: RolloutSettings,
  client: RolloutSettings,
): DeviceOverrides | undefined {
  const out: DeviceOverrides = {};
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  if (!same(device.windows, client.windows)) out.windows = device.windows;
  if (!same(device.reboot, client.reboot)) out.reboot = device.reboot;
  if (device.uninstallOnFailure !== client.uninstallOnFailure)
    out.uninstallOnFailure = device.uninstallOnFailure;
  return Object.keys(out).length ? out : undefined;
}

export function createPlanActivities({ store, policies: allPolicies, timing }: ActivityDeps) {
  return {
    /**
     * Assesses every missing patch of every device of the client against the policy
     * cascade, assigns rings and stores the plan. Returns only counts and settings.
     */
    async planRollout(a: {
      rolloutId: string;
      clientId: string;
      policyOverride?: PolicyDocument | undefined;
    }): Promise<PlanResult> {
      const now = Date.now();
      // A one-off policy applies as the client's own level, replacing a client policy file.
      const policies = a.policyOverride
        ? [
            ...allPolicies.filter(
              (p) => !(p.scope.level === 'client' && p.scope.id === a.clientId),
            ),
            { ...a.policyOverride, scope: { level: 'client' as const, id: a.clientId } },
          ]
        : allPolicies;
      const clientPolicy = effectivePolicy(policies, {
        clientId: a.clientId,
        siteId: '',
        groups: [],
      }).policy;
      const times = {
        jobPollMs: timing?.jobPollMs ?? 2_000,
        offlineRetryMs: timing?.offlineRetryMs ?? 3_600_000,
      };
      const settings = toSettings(clientPolicy, times);
      // Rings, approvals, concurrency and the breaker belong to the rollout as a whole and
      // come from the client level; windows, reboot and rollback are a device's own and
      // follow its site and group policies too.
      const overridesBy = new Map<string, DeviceOverrides | undefined>();
      // Only devices this rollout's own inventory sync saw (created right before the sync).
      const seenSince = (await store.rollouts.get(a.rolloutId))?.createdAt;
      const patchPlans = new Map<string, PlannedPatch>();
      const targets: Array<{ device: Device; patchIds: string[]; settings?: DeviceOverrides }> = [];
      const excluded: ExcludedPatches[] = [];
      const patchCache = new Map<string, Patch>();
      let after: string | null = null;
      for (;;) {
        const devices = await store.inventory.devicePage(a.clientId, after, 500, seenSince);
        if (devices.length === 0) break;
        after = devices[devices.length - 1]!.id;
        const missing = await store.inventory.missingFor(devices.map((d) => d.id));
        const unknown = [...new Set([...missing.values()].flat())].filter(
          (id) => !patchCache.has(id),
        );
        for (const p of await store.inventory.patches(unknown)) patchCache.set(p.id, p);
        for (const device of devices) {
          const chain = effectivePolicy(policies, {
            clientId: a.clientId,
            siteId: device.siteId,
            groups: device.tags,
          });
          const deploy: string[] = [];
          const rejected: string[] = [];
          for (const id of missing.get(device.id) ?? []) {
            const patch = patchCache.get(id);
            if (!patch) continue;
            const decision = deferralAt(chain, decideApproval(chain, patch), patch, now);
            const risk = assessRisk(patch, device, now);
            const known = patchPlans.get(id);
            // The rollout-level record keeps the strictest decision any device got.
            if (!known || rank(decision.action) > rank(known.decision)) {
              patchPlans.set(id, {
                patchId: id,
                decision: decision.action,
                reason: `${decision.decidedBy}: ${decision.reason}`,
                riskTier: risk.tier,
                dueAt: new Date(risk.dueAt),
              });
            }
            if (decision.action === 'auto' || decision.action === 'needs_approval') deploy.push(id);
            if (decision.action === 'reject') rejected.push(id);
          }
          if (rejected.length) excluded.push({ deviceId: device.id, patchIds: rejected });
          if (!deploy.length) continue;
          // Devices share a few chains (site × groups); resolve each chain's settings once.
          const chainKey = JSON.stringify([device.siteId, device.tags]);
          if (!overridesBy.has(chainKey))
            overridesBy.set(chainKey, deviceOverrides(toSettings(chain.policy, times), settings));
          const own = overridesBy.get(chainKey);
          targets.push({ device, patchIds: deploy, ...(own ? { settings: own } : {}) });
        }
      }
      const assignment = assignRings(
        clientPolicy.rings,
        targets.map((t) => t.device),
        a.clientId,
      );
      const ringOf = new Map<string, number>();
      clientPolicy.rings.forEach((r, i) =>
        (assignment[r.name] ?? []).forEach((id) => ringOf.set(id, i)),
      );
      const plannedDevices: PlannedDevice[] = targets.map((t) => {
        const ringIndex = ringOf.get(t.device.id) ?? clientPolicy.rings.length - 1;
        return {
          deviceId: t.device.id,
          ringIndex,
          ring: clientPolicy.rings[ringIndex]!.name,
          patchIds: t.patchIds,
          ...(t.settings ? { settings: t.settings } : {}),
        };
      });
      const patches = [...patchPlans.values()];
      await store.rollouts.savePlan(a.rolloutId, patches, plannedDevices, excluded);
      const needsApproval = patches.some((p) => p.decision === 'needs_approval');
      // Nothing to ask: the policy approved every planned pair already.
      if (!needsApproval) await store.rollouts.setPlannedPatchState(a.rolloutId, 'approved');
      const count = (d: PlannedPatch['decision']) => patches.filter((p) => p.decision === d).length;
      const summary = {
        devices: plannedDevices.length,
        patches: patches.filter((p) => p.decision === 'auto' || p.decision === 'needs_approval')
          .length,
        rejected: count('reject'),
        deferred: count('defer'),
        needsApproval: count('needs_approval'),
        auto: count('auto'),
        window: describeWindows(settings.windows, settings.bypassWindows),
      };
      await store.rollouts.setStatus(a.rolloutId, 'planning', summary);
      return {
        settings,
        ringSizes: clientPolicy.rings.map(
          (_, i) => plannedDevices.filter((d) => d.ringIndex === i).length,
        ),
        needsApproval,
        summary,
      };
    },
  };
}

const rank = (d: PlannedPatch['decision']) =>
  ({ auto: 0, needs_approval: 1, defer: 2, reject: 3 })[d];

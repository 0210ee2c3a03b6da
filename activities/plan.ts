import { Context } from '@temporalio/activity';
import { applyEmergency, emergencyDecision, type EmergencyRequest } from '../domain/emergency.js';
import type { CveIntel, IntelLookup } from '../domain/intel.js';
import {
  assessRisk,
  cveFacts,
  moreUrgent,
  tierRank,
  type CveFacts,
  type RiskTier,
} from '../domain/risk.js';
import {
  compareRanked,
  ftcGroup,
  riskInputs,
  type Ranked,
  type RiskInputs,
} from '../domain/risk-order.js';
import {
  decideApproval,
  deferralAt,
  effectivePolicy,
  type PolicyDocument,
  type ResolvedPolicy,
} from '../domain/policy/index.js';
import type { Device, Patch } from '../domain/model.js';
import { approvalGates, assignRings, ringLocator } from '../domain/rings.js';
import type { DeviceOverrides, RolloutSettings } from '../domain/rollout-settings.js';
import { deviceOverrides, toSettings } from '../domain/policy-settings.js';
import type { ExcludedPatches, PlannedDevice, PlannedPatch } from '../store/index.js';
import { pairKey, type PairRisk } from '../store/risk.js';
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
    /** Rings that wait for a human promotion because an approval rule asks before them. */
    approvalBefore?: string[];
  };
}

export function createPlanActivities({ store, policies: allPolicies, timing }: ActivityDeps) {
  const risk = store.risk;
  return {
    /**
     * Assesses every missing patch of every device of the client: risk tier and SLA due date
     * (CISA BOD 26-04 from intel, stored per device × patch), the policy cascade's decision
     * (which may name tiers and rings), the ring; stores the plan with each device's patches
     * and the rollout's patches in deployment order. Returns only counts and settings.
     */
    async planRollout(a: {
      rolloutId: string;
      clientId: string;
      policyOverride?: PolicyDocument | undefined;
      /** An emergency rollout: only this CVE's patches, the policy's emergency block applied. */
      emergency?: EmergencyRequest | undefined;
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
      // An emergency runs with the policy's emergency block (domain/emergency.ts), level by
      // level: a site or group may allow bypassing windows where its client does not.
      const settingsOf = (p: ResolvedPolicy): RolloutSettings =>
        a.emergency
          ? applyEmergency(toSettings(p, times), p.emergency, a.emergency)
          : toSettings(p, times);
      const settings = settingsOf(clientPolicy);
      const locate = ringLocator(clientPolicy.rings, a.clientId);
      const ringIndex = new Map(clientPolicy.rings.map((r, i) => [r.name, i]));
      const intel: IntelLookup = store.intel;
      // Rings, approvals, concurrency and the breaker belong to the rollout as a whole and
      // come from the client level; windows, reboot, rollback and SLA are a device's own
      // and follow its site and group policies too.
      const overridesBy = new Map<string, DeviceOverrides | undefined>();
      // Only devices this rollout's own inventory sync saw (created right before the sync).
      const seenSince = (await store.rollouts.get(a.rolloutId))?.createdAt;
      const patchPlans = new Map<string, PatchPlan>();
      const targets: Array<{ device: Device; patchIds: string[]; settings?: DeviceOverrides }> = [];
      const excluded: ExcludedPatches[] = [];
      const patchCache = new Map<string, Patch>();
      const intelCache = new Map<string, CveIntel>();
      const factsOf = new Map<string, CveFacts[]>();
      const ringNeedsApproval = clientPolicy.rings.map(() => false);
      let ringRules = false;
      let after: string | null = null;
      // A big fleet takes minutes: heartbeat per page, so the workflow's `long` proxy knows
      // the activity is alive (and a lost worker is noticed in a minute).
      const heartbeat = Context.current().heartbeat.bind(Context.current());
      for (let planned = 0; ;) {
        heartbeat({ planned });
        const devices = await store.inventory.devicePage(a.clientId, after, 500, seenSince);
        planned += devices.length;
        if (devices.length === 0) break;
        after = devices[devices.length - 1]!.id;
        const ids = devices.map((d) => d.id);
        const [missing, firstSeen] = await Promise.all([
          store.inventory.missingFor(ids),
          risk.firstSeen(ids),
        ]);
        const unknown = [...new Set([...missing.values()].flat())].filter(
          (id) => !patchCache.has(id),
        );
        const fresh = await store.inventory.patches(unknown);
        for (const p of fresh) patchCache.set(p.id, p);
        const cves = [...new Set(fresh.flatMap((p) => p.cveIds))];
        if (cves.length)
          for (const [cve, found] of await intel.lookup(cves)) intelCache.set(cve, found);
        const pairs: PairRisk[] = [];
        for (const device of devices) {
          const chain = effectivePolicy(policies, {
            clientId: a.clientId,
            siteId: device.siteId,
            groups: device.tags,
          });
          const ring = locate(device);
          ringRules ||= chain.chain.some((p) => p.approval?.rules.some((r) => r.rings));
          const deploy: Array<{ id: string; order: Ranked }> = [];
          const rejected: string[] = [];
          for (const id of missing.get(device.id) ?? []) {
            const patch = patchCache.get(id);
            if (!patch) continue;
            if (a.emergency && !patch.cveIds.includes(a.emergency.cve)) continue;
            const seen = firstSeen.get(pairKey(device.id, id))?.getTime() ?? now;
            let facts = factsOf.get(id);
            if (!facts) factsOf.set(id, (facts = cveFacts(patch, intelCache)));
            const assessed = assessRisk(patch, facts, device, seen, chain.policy.sla);
            pairs.push({
              deviceId: device.id,
              patchId: id,
              tier: assessed.tier,
              dueAt: new Date(assessed.dueAt),
            });
            const decision = a.emergency
              ? emergencyDecision(
                  decideApproval(chain, patch, { tier: assessed.tier, ring }),
                  settings.requiredApprovals ?? 1,
                  a.emergency.cve,
                )
              : deferralAt(
                  chain,
                  decideApproval(chain, patch, { tier: assessed.tier, ring }),
                  patch,
                  now,
                );
            const order: Ranked = {
              patchId: id,
              tier: assessed.tier,
              ftc: ftcGroup(patch),
              tieBreaker: assessed.tieBreaker,
            };
            mergePatchPlan(patchPlans, {
              patchId: id,
              decision: decision.action,
              reason: `${decision.decidedBy}: ${decision.reason}`,
              riskTier: assessed.tier,
              dueAt: new Date(assessed.dueAt),
              order,
              inputs: riskInputs(assessed, device, order.ftc),
            });
            if (decision.action === 'auto' || decision.action === 'needs_approval')
              deploy.push({ id, order });
            if (decision.action === 'needs_approval')
              ringNeedsApproval[ringIndex.get(ring) ?? ringNeedsApproval.length - 1] = true;
            if (decision.action === 'reject') rejected.push(id);
          }
          if (rejected.length) excluded.push({ deviceId: device.id, patchIds: rejected });
          if (!deploy.length) continue;
          // Devices share a few chains (site × groups); resolve each chain's settings once.
          const chainKey = JSON.stringify([device.siteId, device.tags]);
          if (!overridesBy.has(chainKey))
            overridesBy.set(chainKey, deviceOverrides(settingsOf(chain.policy), settings));
          const own = overridesBy.get(chainKey);
          // A device installs its own most urgent patches first.
          const patchIds = deploy.sort((x, y) => compareRanked(x.order, y.order)).map((x) => x.id);
          targets.push({ device, patchIds, ...(own ? { settings: own } : {}) });
        }
        await risk.savePairs(pairs);
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
      const ringSizes = clientPolicy.rings.map(
        (_, i) => plannedDevices.filter((d) => d.ringIndex === i).length,
      );
      // Without ring-specific rules a rollout asks once, before it starts, as it always did.
      // An emergency asks once, up front, for its approvals (none when the policy says 0).
      const gates = a.emergency
        ? { upfront: (settings.requiredApprovals ?? 1) > 0, manualAfter: [] }
        : ringRules
          ? approvalGates(ringSizes, ringNeedsApproval)
          : { upfront: ringNeedsApproval.some(Boolean), manualAfter: [] };
      for (const i of gates.manualAfter) settings.rings[i]!.promotion = 'manual';
      const ordered = [...patchPlans.values()].sort((x, y) => compareRanked(x.order, y.order));
      const patches: PlannedPatch[] = ordered.map((p) => ({
        patchId: p.patchId,
        decision: p.decision,
        reason: p.reason,
        riskTier: p.riskTier,
        dueAt: p.dueAt,
      }));
      await store.rollouts.savePlan(a.rolloutId, patches, plannedDevices, excluded);
      await risk.saveRolloutOrder(
        a.rolloutId,
        ordered.map((p, i) => ({ patchId: p.patchId, rank: i + 1, risk: p.inputs })),
      );
      const needsApproval = gates.upfront;
      // Nothing to ask before the first ring: the policy approved every pair it deploys
      // (a later ring's approval is its promotion).
      if (!needsApproval) await store.rollouts.setPlannedPatchState(a.rolloutId, 'approved');
      const count = (d: PlannedPatch['decision']) => patches.filter((p) => p.decision === d).length;
      const approvalBefore = gates.manualAfter.map((i) => clientPolicy.rings[i + 1]!.name);
      const summary = {
        devices: plannedDevices.length,
        patches: patches.filter((p) => p.decision === 'auto' || p.decision === 'needs_approval')
          .length,
        rejected: count('reject'),
        deferred: count('defer'),
        needsApproval: count('needs_approval'),
        auto: count('auto'),
        window: describeWindows(settings.windows, settings.bypassWindows),
        ...(approvalBefore.length ? { approvalBefore } : {}),
      };
      await store.rollouts.setStatus(a.rolloutId, 'planning', summary);
      return { settings, ringSizes, needsApproval, summary };
    },
  };
}

/** The rollout-level record of a patch while planning: strictest decision, most urgent risk. */
interface PatchPlan extends PlannedPatch {
  riskTier: RiskTier;
  dueAt: Date;
  order: Ranked;
  inputs: RiskInputs;
}

/**
 * Folds one device's view of a patch into the rollout's: the strictest decision any device
 * got (with its reason), the most urgent tier with the highest tie-breaker (and the inputs
 * of that device), the earliest due date.
 */
function mergePatchPlan(plans: Map<string, PatchPlan>, next: PatchPlan): void {
  const known = plans.get(next.patchId);
  if (!known) {
    plans.set(next.patchId, next);
    return;
  }
  if (rank(next.decision) > rank(known.decision)) {
    known.decision = next.decision;
    known.reason = next.reason;
  }
  const urgent =
    tierRank(next.riskTier) < tierRank(known.riskTier) ||
    (next.riskTier === known.riskTier && next.order.tieBreaker > known.order.tieBreaker);
  if (urgent) {
    known.order = next.order;
    known.inputs = next.inputs;
  }
  known.riskTier = moreUrgent(known.riskTier, next.riskTier);
  if (next.dueAt < known.dueAt) known.dueAt = next.dueAt;
}

const rank = (d: PlannedPatch['decision']) =>
  ({ auto: 0, needs_approval: 1, defer: 2, reject: 3 })[d];

import { brokerDeadline } from "@/lib/keepalive";
import { route } from "@/lib/api/route";
import { previewQuery, ruleDto } from "@/lib/api/alerts";
import { parseQuery } from "@/lib/api/query";
import { requireDb } from "@/lib/api/runtime-db";
import { RuleSet } from "@/lib/alerts/rules";
import { listAlertRules } from "@/lib/store/alerts";
import { getRuntime } from "@/lib/runtime";

export const dynamic = "force-dynamic";

/**
 * Which rule applies to device X: the rule, every matching rule in precedence
 * order (disabled ones marked), and the device's keepalive and resulting
 * thresholds when the monitor knows the device.
 */
export const GET = route("viewer", async (request) => {
  const { device } = parseQuery(request.url, previewQuery);
  const runtime = getRuntime();
  const rules = await listAlertRules(requireDb(runtime));
  const set = new RuleSet(rules);
  const position = new Map(set.ordered.map((c, i) => [c.rule.id, i + 1]));
  const dto = (r: (typeof rules)[number]) => ruleDto(r, position.get(r.id)!, runtime.pingsVisible);
  const applies = set.ruleFor(device);
  const known = runtime.fleet.get(device);
  const k = known?.keepaliveSeconds ?? null;
  const offlineAfterSeconds =
    applies === null
      ? null
      : applies.offlineSeconds !== null
        ? applies.offlineSeconds
        : k !== null && k > 0 && applies.offlineFactor !== null
          ? applies.offlineFactor * k
          : null;
  return Response.json({
    deviceId: device,
    rule: applies ? dto(applies) : null,
    matching: set.matching(device).map(dto),
    device: known ? { keepaliveSeconds: k, status: known.status } : null,
    thresholds: applies
      ? {
          offlineAfterSeconds,
          lateAfterSeconds: applies.lateFactor !== null && k ? applies.lateFactor * k : null,
          brokerDeadlineSeconds: k ? brokerDeadline(k) : null,
          nearMissAboveSeconds: applies.nearMissRatio !== null && k ? applies.nearMissRatio * k : null,
        }
      : null,
  });
});

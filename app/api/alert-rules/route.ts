import { route } from "@/lib/api/route";
import { readRuleBody, ruleDto, ruleDtos } from "@/lib/api/alerts";
import { parseQuery } from "@/lib/api/query";
import { createAlertRule, listAlertRules } from "@/lib/store/alerts";
import { getRuntime } from "@/lib/runtime";
import { MAX_RULES, RuleSet } from "@/lib/alerts/rules";
import { AppError } from "@/lib/api/errors";
import { requireDb } from "@/lib/api/runtime-db";
import { existingChannelIds } from "@/lib/store/notifications";

export const dynamic = "force-dynamic";

export const GET = route("viewer", async (request) => {
  parseQuery(request.url, {});
  const runtime = getRuntime();
  const rules = await listAlertRules(requireDb(runtime));
  return Response.json({ rules: ruleDtos(rules, runtime.pingsVisible), pingsVisible: runtime.pingsVisible });
});

export const POST = route("operator", async (request, { runtime, principal, ip }) => {
  const db = requireDb(runtime);
  const input = await readRuleBody(request, {
    allow: runtime.webhookAllow,
    existingChannels: (ids) => existingChannelIds(db, ids),
  });
  if ((await listAlertRules(db)).length >= MAX_RULES)
    throw new AppError("CONFLICT", `at most ${MAX_RULES} alert rules; delete or widen some`);
  const rule = await createAlertRule(db, input);
  await runtime.auth.audit({
    actor: principal.name,
    action: "rule.create",
    target: `rule:${rule.id} ${rule.name}`,
    ip,
  });
  await runtime.changed("rules");
  const all = await listAlertRules(db);
  const precedence = new RuleSet(all).ordered.findIndex((c) => c.rule.id === rule.id) + 1;
  return Response.json({ rule: ruleDto(rule, precedence, runtime.pingsVisible) }, { status: 201 });
});

import { AppError } from "@/lib/api/errors";
import { route } from "@/lib/api/route";
import { parseRuleId, readRuleBody, ruleDto } from "@/lib/api/alerts";
import { requireDb } from "@/lib/api/runtime-db";
import { existingChannelIds } from "@/lib/store/notifications";
import { RuleSet } from "@/lib/alerts/rules";
import { deleteAlertRule, getAlertRule, listAlertRules, updateAlertRule } from "@/lib/store/alerts";
import { getRuntime } from "@/lib/runtime";

export const dynamic = "force-dynamic";

const notFound = (id: number) => new AppError("NOT_FOUND", `no alert rule with id ${id}`);

export const GET = route<{ id: string }>("viewer", async (_request, { params }) => {
  const runtime = getRuntime();
  const id = parseRuleId(params.id);
  const rule = await getAlertRule(requireDb(runtime), id);
  if (!rule) throw notFound(id);
  const all = await listAlertRules(requireDb(runtime));
  const precedence = new RuleSet(all).ordered.findIndex((c) => c.rule.id === id) + 1;
  return Response.json({ rule: ruleDto(rule, precedence, runtime.pingsVisible) });
});

export const PUT = route<{ id: string }>("operator", async (request, { params, runtime, principal, ip }) => {
  const db = requireDb(runtime);
  const id = parseRuleId(params.id);
  const input = await readRuleBody(request, {
    allow: runtime.webhookAllow,
    existingChannels: (ids) => existingChannelIds(db, ids),
  });
  const existing = await getAlertRule(db, id);
  if (!existing) throw notFound(id);
  if (existing.isDefault && input.match !== "*") {
    const message = "match: the default rule matches every device (*); add a rule for a narrower match";
    throw new AppError("BAD_REQUEST", message, { match: message.slice("match: ".length) });
  }
  const rule = await updateAlertRule(db, id, input);
  if (!rule) throw notFound(id);
  await runtime.auth.audit({ actor: principal.name, action: "rule.update", target: `rule:${id} ${rule.name}`, ip });
  await runtime.changed("rules");
  const all = await listAlertRules(db);
  const precedence = new RuleSet(all).ordered.findIndex((c) => c.rule.id === id) + 1;
  return Response.json({ rule: ruleDto(rule, precedence, runtime.pingsVisible) });
});

export const DELETE = route<{ id: string }>("operator", async (_request, { params, runtime, principal, ip }) => {
  const id = parseRuleId(params.id);
  const result = await deleteAlertRule(requireDb(runtime), id);
  if (result === "not-found") throw notFound(id);
  if (result === "default") throw new AppError("CONFLICT", "the default rule cannot be deleted (disable it instead)");
  await runtime.auth.audit({ actor: principal.name, action: "rule.delete", target: `rule:${id}`, ip });
  await runtime.changed("rules");
  return new Response(null, { status: 204 });
});

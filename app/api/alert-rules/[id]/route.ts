import { AppError, handle } from "@/lib/api/errors";
import { parseRuleId, readRuleBody, ruleDto } from "@/lib/api/alerts";
import { requireDb } from "@/lib/api/runtime-db";
import { RuleSet } from "@/lib/alerts/rules";
import { deleteAlertRule, getAlertRule, listAlertRules, updateAlertRule } from "@/lib/store/alerts";
import { getRuntime } from "@/lib/runtime";

export const dynamic = "force-dynamic";

type Ctx = { params: Promise<{ id: string }> };

const notFound = (id: number) => new AppError("NOT_FOUND", `no alert rule with id ${id}`);

export const GET = handle(async (_request: Request, ctx: Ctx) => {
  const runtime = getRuntime();
  const id = parseRuleId((await ctx.params).id);
  const rule = await getAlertRule(requireDb(runtime), id);
  if (!rule) throw notFound(id);
  const all = await listAlertRules(requireDb(runtime));
  const precedence = new RuleSet(all).ordered.findIndex((c) => c.rule.id === id) + 1;
  return Response.json({ rule: ruleDto(rule, precedence, runtime.pingsVisible) });
});

export const PUT = handle(async (request: Request, ctx: Ctx) => {
  const runtime = getRuntime();
  const db = requireDb(runtime);
  const id = parseRuleId((await ctx.params).id);
  const input = await readRuleBody(request);
  const existing = await getAlertRule(db, id);
  if (!existing) throw notFound(id);
  if (existing.isDefault && input.match !== "*") {
    const message = "match: the default rule matches every device (*); add a rule for a narrower match";
    throw new AppError("BAD_REQUEST", message, { match: message.slice("match: ".length) });
  }
  const rule = await updateAlertRule(db, id, input);
  if (!rule) throw notFound(id);
  await runtime.alerts?.reloadRules();
  const all = await listAlertRules(db);
  const precedence = new RuleSet(all).ordered.findIndex((c) => c.rule.id === id) + 1;
  return Response.json({ rule: ruleDto(rule, precedence, runtime.pingsVisible) });
});

export const DELETE = handle(async (_request: Request, ctx: Ctx) => {
  const runtime = getRuntime();
  const id = parseRuleId((await ctx.params).id);
  const result = await deleteAlertRule(requireDb(runtime), id);
  if (result === "not-found") throw notFound(id);
  if (result === "default") throw new AppError("CONFLICT", "the default rule cannot be deleted (disable it instead)");
  await runtime.alerts?.reloadRules();
  return new Response(null, { status: 204 });
});

"use client";

import { useState } from "react";
import type { AlertRuleDto } from "@/lib/alerts/dto";
import type { ChannelDto } from "@/lib/notify/dto";
import { Brand, TopNav } from "@/components/nav/TopNav";
import { DeliveryLog } from "./DeliveryLog";
import { apiJson, errorText, useApi } from "@/components/api/client";
import { RuleForm } from "./RuleForm";
import { RulePreview } from "./RulePreview";

interface RulesState {
  rules: AlertRuleDto[];
  pingsVisible: boolean;
}

/**
 * Alert rules: the list in precedence order (with why that order), editing
 * with the API's per-field messages, the "which rule applies to device X"
 * preview, and the delivery log.
 */
export function RulesPage() {
  const [editing, setEditing] = useState<AlertRuleDto | "new" | null>(null);
  const rules = useApi<RulesState>("/api/alert-rules");
  const channelList = useApi<{ channels: ChannelDto[] }>("/api/channels");
  const state = rules.data;
  const channels = channelList.data?.channels ?? null;
  // A failed delete is said until the next one; else the list's own failure.
  const [actionError, setActionError] = useState<string | null>(null);
  const error = actionError ?? rules.error;

  const reload = () => {
    rules.refetch();
    channelList.refetch();
  };

  const saved = () => {
    setEditing(null);
    reload();
  };

  const remove = async (rule: AlertRuleDto) => {
    if (!window.confirm(`Delete rule "${rule.name}"? Devices it matched fall back to the next matching rule.`)) return;
    setActionError(null);
    try {
      await apiJson("DELETE", `/api/alert-rules/${rule.id}`);
    } catch (e) {
      setActionError(errorText(e));
    }
    reload();
  };

  return (
    <div className="flex min-h-dvh flex-col">
      <header className="flex flex-wrap items-center gap-x-3 gap-y-2 border-b border-zinc-800 bg-zinc-900/80 px-4 py-2">
        <Brand section="alert rules" />
        <TopNav />
      </header>
      <main className="flex flex-1 flex-col gap-4 p-4">
        <div className="flex flex-wrap items-baseline gap-x-3 gap-y-1">
          <h1 className="text-base font-semibold text-zinc-100">Alert rules</h1>
          <p className="max-w-3xl text-xs text-zinc-500">
            Each device gets exactly one rule: the <strong className="text-zinc-300">most specific</strong> enabled rule
            whose glob matches its id. An exact id beats any glob; then the longer literal prefix wins (
            <code>pump-7*</code> before <code>pump-*</code>), then more literal characters, then fewer <code>*</code>,
            then fewer wildcards, then the older rule. The default rule (<code>*</code>) comes last and cannot be
            deleted. Changes apply at once.
          </p>
        </div>
        {error && (
          <p role="alert" className="text-xs text-red-400">
            {error}
          </p>
        )}
        {state && !state.pingsVisible && (
          <p
            data-testid="pings-warning"
            className="max-w-3xl rounded border border-amber-800 bg-amber-950/40 px-3 py-2 text-xs text-amber-200"
          >
            This monitor has no source that sees PINGREQs (the embedded broker, or Mosquitto&apos;s debug log). Silence
            thresholds shorter than the broker&apos;s own deadline (1.5 × keepalive), late and near-miss alerts cannot
            be honoured: offline is known when the broker drops a client.
          </p>
        )}
        <section aria-labelledby="rules-h" className="flex flex-col gap-2">
          <div className="flex items-center gap-3">
            <h2 id="rules-h" className="text-sm font-medium text-zinc-200">
              Rules, in precedence order
            </h2>
            <button
              type="button"
              data-testid="new-rule"
              onClick={() => setEditing("new")}
              className="rounded-md bg-sky-700 px-2 py-1 text-xs font-medium text-white hover:bg-sky-600"
            >
              New rule
            </button>
          </div>
          {editing === "new" && state && (
            <RuleForm
              rule={null}
              pingsVisible={state.pingsVisible}
              channels={channels}
              onSaved={saved}
              onCancel={() => setEditing(null)}
            />
          )}
          {!state && !error && <p className="text-xs text-zinc-500">Loading…</p>}
          <ol className="flex flex-col gap-2">
            {state?.rules.map((rule) => (
              <li
                key={rule.id}
                data-testid="rule-row"
                data-rule-id={rule.id}
                data-rule-name={rule.name}
                className="rounded border border-zinc-800 bg-zinc-900/50 px-3 py-2"
              >
                {editing !== "new" && editing?.id === rule.id ? (
                  <RuleForm
                    rule={rule}
                    pingsVisible={state.pingsVisible}
                    channels={channels}
                    onSaved={saved}
                    onCancel={() => setEditing(null)}
                  />
                ) : (
                  <RuleSummary
                    rule={rule}
                    channels={channels ?? []}
                    onEdit={() => setEditing(rule)}
                    onDelete={rule.isDefault ? null : () => void remove(rule)}
                  />
                )}
              </li>
            ))}
          </ol>
        </section>
        <RulePreview version={rules.updatedAt} />
        <DeliveryLog channels={channels} />
      </main>
    </div>
  );
}

function thresholds(rule: AlertRuleDto): string[] {
  const out: string[] = [];
  out.push(
    rule.offlineSeconds !== null
      ? `offline after ${rule.offlineSeconds} s`
      : `offline after ${rule.offlineFactor} × keepalive`,
  );
  if (rule.lateFactor !== null) out.push(`late after ${rule.lateFactor} × keepalive`);
  if (rule.flapDisconnects !== null)
    out.push(`flapping at ${rule.flapDisconnects} disconnects in ${rule.flapWindowSeconds} s`);
  if (rule.nearMissRatio !== null) out.push(`near-miss above ${Math.round(rule.nearMissRatio * 100)} % of keepalive`);
  out.push(`resolves after ${rule.resolveAfterSeconds} s fine`);
  if (rule.repeatIntervalSeconds !== null) out.push(`repeats every ${rule.repeatIntervalSeconds} s`);
  return out;
}

function RuleSummary({
  rule,
  channels,
  onEdit,
  onDelete,
}: {
  rule: AlertRuleDto;
  channels: ChannelDto[];
  onEdit(): void;
  onDelete: (() => void) | null;
}) {
  return (
    <div className="flex flex-col gap-1">
      <div className="flex flex-wrap items-center gap-2">
        <span className="w-6 text-right text-xs text-zinc-500 tabular-nums" title="precedence">
          #{rule.precedence}
        </span>
        <span className="font-medium text-zinc-100">{rule.name}</span>
        <code data-testid="rule-match" className="rounded bg-zinc-800 px-1.5 text-xs text-zinc-200">
          {rule.match}
        </code>
        {rule.isDefault && <span className="text-xs text-zinc-500">default</span>}
        {!rule.enabled && <span className="rounded bg-zinc-800 px-1.5 text-xs text-zinc-400">disabled</span>}
        <span className="flex-1" />
        <button type="button" onClick={onEdit} className="text-xs text-sky-400 hover:underline" data-testid="edit-rule">
          Edit
        </button>
        {onDelete && (
          <button
            type="button"
            onClick={onDelete}
            className="text-xs text-red-400 hover:underline"
            data-testid="delete-rule"
          >
            Delete
          </button>
        )}
      </div>
      <p className="pl-8 text-xs text-zinc-400">
        {thresholds(rule).join(" · ")}
        {" · "}
        <span data-testid="rule-channels">
          {rule.channelIds.length === 0
            ? "no channel"
            : `notifies ${rule.channelIds.map((id) => channels.find((c) => c.id === id)?.name ?? `#${id}`).join(", ")}`}
        </span>
      </p>
      {rule.warnings.map((w) => (
        <p key={w} data-testid="rule-warning" className="pl-8 text-xs text-amber-300">
          ⚠ {w}
        </p>
      ))}
    </div>
  );
}

"use client";

import { useState } from "react";
import type { ChannelDto, ChannelTypeDto, TestAttemptDto } from "@/lib/notify/dto";
import { Brand, TopNav } from "@/components/nav/TopNav";
import { apiJson, errorText, useApi } from "@/components/api/client";
import { canOperate, useMe } from "@/components/nav/me";
import { ChannelForm } from "./ChannelForm";
import { targetOf } from "./fields";

interface ChannelsState {
  channels: ChannelDto[];
  types: ChannelTypeDto[];
}

type TestResult = { busy: true } | { busy: false; attempt: TestAttemptDto } | { busy: false; error: string };

/**
 * Settings → Channels: where notifications go. The list (secrets masked, the
 * limit in force, what waits and what is dead), a form per type, and a test
 * button that sends now and shows the attempt inline.
 */
export function ChannelsPage() {
  const [editing, setEditing] = useState<ChannelDto | "new" | null>(null);
  const channels = useApi<ChannelsState>("/api/channels");
  const state = channels.data;
  // A failed delete is said until the next one; else the list's own failure.
  const [actionError, setActionError] = useState<string | null>(null);
  const error = actionError ?? channels.error;
  const [tests, setTests] = useState<Record<number, TestResult>>({});
  const operator = canOperate(useMe());

  const saved = () => {
    setEditing(null);
    channels.refetch();
  };

  const remove = async (c: ChannelDto) => {
    if (!window.confirm(`Delete channel "${c.name}"? Rules stop sending to it; what waits for it is dropped.`)) return;
    setActionError(null);
    try {
      await apiJson("DELETE", `/api/channels/${c.id}`);
    } catch (e) {
      setActionError(errorText(e));
    }
    channels.refetch();
  };

  const test = async (c: ChannelDto) => {
    setTests((t) => ({ ...t, [c.id]: { busy: true } }));
    try {
      const { attempt } = await apiJson<{ attempt: TestAttemptDto }>("POST", `/api/channels/${c.id}/test`);
      setTests((t) => ({ ...t, [c.id]: { busy: false, attempt } }));
    } catch (e) {
      setTests((t) => ({ ...t, [c.id]: { busy: false, error: errorText(e) } }));
    }
  };

  const label = (type: string) => state?.types.find((t) => t.type === type)?.label ?? type;

  return (
    <div className="flex min-h-dvh flex-col">
      <header className="flex flex-wrap items-center gap-x-3 gap-y-2 border-b border-zinc-800 bg-zinc-900/80 px-4 py-2">
        <Brand section="channels" />
        <TopNav />
      </header>
      <main className="flex flex-1 flex-col gap-4 p-4">
        <div className="flex flex-wrap items-baseline gap-x-3 gap-y-1">
          <h1 className="text-base font-semibold text-zinc-100">Notification channels</h1>
          <p className="max-w-3xl text-xs text-zinc-500">
            Rules send their alerts to the channels they pick; system alerts and incidents go to the channels marked for
            system alerts. Every notification waits in the database until it is delivered: failed attempts are retried
            with backoff, and over a channel&apos;s rate limit waiting notifications go out as one digest. Secrets are
            never shown again; leave a masked value as it is to keep it.
          </p>
        </div>
        {error && (
          <p role="alert" className="text-xs text-red-400">
            {error}
          </p>
        )}
        <div className={`flex items-center gap-3 ${operator ? "" : "hidden"}`}>
          <button
            type="button"
            data-testid="new-channel"
            onClick={() => setEditing("new")}
            className="rounded-md bg-sky-700 px-2 py-1 text-xs font-medium text-white hover:bg-sky-600"
          >
            New channel
          </button>
        </div>
        {editing === "new" && state && (
          <ChannelForm channel={null} types={state.types} onSaved={saved} onCancel={() => setEditing(null)} />
        )}
        {!state && !error && <p className="text-xs text-zinc-500">Loading…</p>}
        {state?.channels.length === 0 && editing !== "new" && (
          <p className="text-xs text-zinc-500">No channel yet: alerts are recorded and shown, but nobody is told.</p>
        )}
        <ul className="flex flex-col gap-2">
          {state?.channels.map((c) => {
            const t = tests[c.id];
            return (
              <li
                key={c.id}
                data-testid="channel-row"
                data-channel-name={c.name}
                className="rounded border border-zinc-800 bg-zinc-900/50 px-3 py-2"
              >
                {editing !== "new" && editing?.id === c.id ? (
                  <ChannelForm channel={c} types={state.types} onSaved={saved} onCancel={() => setEditing(null)} />
                ) : (
                  <div className="flex flex-col gap-1">
                    <div className="flex flex-wrap items-center gap-2">
                      <span className="font-medium text-zinc-100">{c.name}</span>
                      <span className="rounded bg-zinc-800 px-1.5 text-xs text-zinc-300">{label(c.type)}</span>
                      {!c.enabled && <span className="rounded bg-zinc-800 px-1.5 text-xs text-zinc-400">disabled</span>}
                      {c.defaultForSystem && (
                        <span className="rounded bg-orange-500/15 px-1.5 text-xs text-orange-200">system alerts</span>
                      )}
                      <span className="flex-1" />
                      {operator && (
                        <>
                          <button
                            type="button"
                            data-testid="test-channel"
                            disabled={t?.busy}
                            onClick={() => void test(c)}
                            className="text-xs text-sky-400 hover:underline disabled:opacity-50"
                          >
                            {t?.busy ? "Sending…" : "Send test"}
                          </button>
                          <button
                            type="button"
                            data-testid="edit-channel"
                            onClick={() => setEditing(c)}
                            className="text-xs text-sky-400 hover:underline"
                          >
                            Edit
                          </button>
                          <button
                            type="button"
                            data-testid="delete-channel"
                            onClick={() => void remove(c)}
                            className="text-xs text-red-400 hover:underline"
                          >
                            Delete
                          </button>
                        </>
                      )}
                    </div>
                    <p className="font-mono text-xs break-all text-zinc-400" data-testid="channel-target">
                      {targetOf(c)}
                    </p>
                    <p className="text-xs text-zinc-500">
                      {c.effectiveRatePerMinute === null
                        ? "no rate limit"
                        : `at most ${c.effectiveRatePerMinute}/min${c.ratePerMinute === null ? " (type default)" : ""}`}
                      {" · "}
                      <span data-testid="channel-pending">{c.pending} waiting</span>
                      {" · "}
                      <span data-testid="channel-dead" className={c.dead > 0 ? "text-red-400" : undefined}>
                        {c.dead} dead
                      </span>
                    </p>
                    {t && !t.busy && (
                      <p
                        role="status"
                        data-testid="test-result"
                        className={`text-xs ${"attempt" in t && t.attempt.ok ? "text-emerald-400" : "text-red-400"}`}
                      >
                        {"error" in t
                          ? `Not sent: ${t.error}`
                          : t.attempt.ok
                            ? `Delivered in ${t.attempt.durationMs} ms${t.attempt.statusCode ? ` (HTTP ${t.attempt.statusCode})` : ""}`
                            : `Failed after ${t.attempt.durationMs} ms: ${t.attempt.error}`}
                      </p>
                    )}
                  </div>
                )}
              </li>
            );
          })}
        </ul>
      </main>
    </div>
  );
}

"use client";

import { useState } from "react";
import type { SilenceDto } from "@/lib/alerts/dto";
import type { Me } from "@/components/nav/me";
import { apiJson } from "@/components/api/client";
import { shortTime } from "./format";
import { localInputToMs, MUTE_HOUR_MS, muteRequest } from "./mute";

/**
 * "Mute 1 h" and "Mute until…": a one-device silence in one step (POST
 * /api/silences), with an optional comment of the operator's own.
 */
export function MuteButtons({
  deviceId,
  me,
  from,
  onError,
  onMuted,
}: {
  deviceId: string;
  me: Me | null;
  /** Where the buttons are, for the silence's comment ("alerts page"). */
  from: string;
  onError(message: string | null): void;
  onMuted?(silence: SilenceDto): void;
}) {
  const [picking, setPicking] = useState(false);
  const [until, setUntil] = useState("");
  const [comment, setComment] = useState("");
  const [busy, setBusy] = useState(false);
  const [mutedUntil, setMutedUntil] = useState<string | null>(null);
  async function mute(endsAt: number, own?: string) {
    const req = muteRequest({
      deviceId,
      username: me?.user.username ?? null,
      from,
      now: Date.now(),
      endsAt,
      comment: own,
    });
    if (!req.ok) return onError(req.message);
    setBusy(true);
    try {
      onError(null);
      const { silence } = await apiJson<{ silence: SilenceDto }>("POST", "/api/silences", req.body);
      setPicking(false);
      setUntil("");
      setComment("");
      setMutedUntil(silence.endsAt);
      onMuted?.(silence);
    } catch (e) {
      onError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  }
  const button = "rounded border border-zinc-700 px-1.5 text-xs text-zinc-300 hover:bg-zinc-800 disabled:opacity-50";
  const input = "h-6 rounded border border-zinc-700 bg-zinc-900 px-1 text-xs text-zinc-200 [color-scheme:dark]";
  return (
    <span className="inline-flex flex-wrap items-center gap-1">
      <button
        type="button"
        data-testid="mute-1h"
        disabled={busy}
        className={button}
        onClick={() => void mute(Date.now() + MUTE_HOUR_MS)}
      >
        Mute 1 h
      </button>
      {picking ? (
        <>
          <input
            type="datetime-local"
            data-testid="mute-until-input"
            aria-label="mute until (your local time)"
            value={until}
            onChange={(e) => setUntil(e.target.value)}
            className={input}
          />
          <input
            type="text"
            aria-label="mute comment"
            placeholder="why (optional)"
            maxLength={1000}
            value={comment}
            onChange={(e) => setComment(e.target.value)}
            className={`${input} w-32`}
          />
          <button
            type="button"
            data-testid="mute-until-confirm"
            className={button}
            disabled={!until || busy}
            onClick={() => void mute(localInputToMs(until), comment)}
          >
            Mute
          </button>
          <button type="button" className="text-xs text-zinc-500 hover:text-zinc-300" onClick={() => setPicking(false)}>
            cancel
          </button>
        </>
      ) : (
        <button type="button" data-testid="mute-until" className={button} onClick={() => setPicking(true)}>
          Mute until…
        </button>
      )}
      {mutedUntil && (
        <span data-testid="muted-until" role="status" className="text-xs text-zinc-400">
          muted until {shortTime(mutedUntil)}
        </span>
      )}
    </span>
  );
}

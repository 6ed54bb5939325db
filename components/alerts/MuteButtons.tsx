"use client";

import { useState } from "react";
import { escapeGlob } from "@/components/history/filters";
import type { Me } from "@/components/nav/me";
import { sendJson } from "./format";

/** "Mute 1 h" and "Mute until…": a one-device silence in one step (POST /api/silences). */
export function MuteButtons({
  deviceId,
  me,
  onError,
  onMuted,
}: {
  deviceId: string;
  me: Me | null;
  onError(message: string | null): void;
  onMuted?(): void;
}) {
  const [picking, setPicking] = useState(false);
  const [until, setUntil] = useState("");
  async function mute(endsAt: Date) {
    try {
      onError(null);
      await sendJson("POST", "/api/silences", {
        match: escapeGlob(deviceId),
        startsAt: new Date().toISOString(),
        endsAt: endsAt.toISOString(),
        comment: `muted ${deviceId} until ${endsAt.toISOString().slice(0, 16).replace("T", " ")} UTC by ${me?.user.username ?? "someone"}`,
      });
      setPicking(false);
      onMuted?.();
    } catch (e) {
      onError(e instanceof Error ? e.message : String(e));
    }
  }
  const button = "rounded border border-zinc-700 px-1.5 text-xs text-zinc-300 hover:bg-zinc-800";
  return (
    <span className="inline-flex items-center gap-1">
      <button
        type="button"
        data-testid="mute-1h"
        className={button}
        onClick={() => void mute(new Date(Date.now() + 3_600_000))}
      >
        Mute 1 h
      </button>
      {picking ? (
        <>
          <input
            type="datetime-local"
            aria-label="mute until (local time)"
            value={until}
            onChange={(e) => setUntil(e.target.value)}
            className="h-6 rounded border border-zinc-700 bg-zinc-900 px-1 text-xs text-zinc-200 [color-scheme:dark]"
          />
          <button
            type="button"
            className={button}
            disabled={!until}
            onClick={() => {
              // datetime-local is the browser's local time.
              const at = new Date(until);
              if (!Number.isNaN(at.getTime())) void mute(at);
            }}
          >
            Mute
          </button>
        </>
      ) : (
        <button type="button" className={button} onClick={() => setPicking(true)}>
          Mute until…
        </button>
      )}
    </span>
  );
}

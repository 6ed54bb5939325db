"use client";

import { useState, type FormEvent } from "react";
import type { AlertRuleDto } from "@/lib/alerts/dto";
import { apiJson, errorText } from "@/components/api/client";

interface Preview {
  deviceId: string;
  rule: AlertRuleDto | null;
  matching: AlertRuleDto[];
  device: { keepaliveSeconds: number | null; status: string } | null;
  thresholds: {
    offlineAfterSeconds: number | null;
    lateAfterSeconds: number | null;
    brokerDeadlineSeconds: number | null;
    nearMissAboveSeconds: number | null;
  } | null;
}

/**
 * "Which rule applies to device X": the rule, the other matches it wins over,
 * and the resulting thresholds. `version`: when the rules were last read
 * (0 before they are), so an answer given before a change is marked stale.
 */
export function RulePreview({ version }: { version: number }) {
  const [device, setDevice] = useState("");
  const [preview, setPreview] = useState<Preview | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [asked, setAsked] = useState<{ device: string; version: number } | null>(null);

  const ask = async (e?: FormEvent) => {
    e?.preventDefault();
    if (!device) return;
    setAsked({ device, version });
    try {
      setPreview(await apiJson<Preview>("GET", `/api/alert-rules/preview?device=${encodeURIComponent(device)}`));
      setError(null);
    } catch (err) {
      setError(errorText(err));
    }
  };
  const stale = asked !== null && asked.version !== 0 && asked.version !== version;

  return (
    <section aria-labelledby="preview-h" className="flex flex-col gap-2">
      <h2 id="preview-h" className="text-sm font-medium text-zinc-200">
        Which rule applies to a device?
      </h2>
      <form onSubmit={ask} className="flex gap-2">
        <input
          aria-label="device id"
          data-testid="preview-device"
          placeholder="device id, e.g. pump-7"
          value={device}
          onChange={(e) => setDevice(e.target.value)}
          className="w-64 rounded border border-zinc-700 bg-zinc-950 px-2 py-1 text-[13px] text-zinc-100"
        />
        <button
          type="submit"
          data-testid="preview-go"
          className="rounded-md bg-zinc-800 px-2 py-1 text-xs text-zinc-200 hover:bg-zinc-700"
        >
          Show
        </button>
        {stale && <span className="self-center text-xs text-zinc-500">rules changed: press Show again</span>}
      </form>
      {error && <p className="text-xs text-red-400">{error}</p>}
      {preview && (
        <div data-testid="preview-result" className="text-xs text-zinc-300">
          {preview.rule ? (
            <p>
              <code className="text-zinc-100">{preview.deviceId}</code> is watched by{" "}
              <strong data-testid="preview-rule" className="text-zinc-100">
                {preview.rule.name}
              </strong>{" "}
              (<code>{preview.rule.match}</code>, precedence #{preview.rule.precedence})
              {preview.device
                ? `; keepalive ${preview.device.keepaliveSeconds ?? "unknown"} s, now ${preview.device.status}`
                : "; not seen by the monitor yet"}
              .
            </p>
          ) : (
            <p>No enabled rule matches {preview.deviceId}: it raises no alerts.</p>
          )}
          {preview.thresholds && preview.device && (
            <p className="text-zinc-400">
              offline alert after {preview.thresholds.offlineAfterSeconds ?? "—"} s of silence (the broker drops it
              after {preview.thresholds.brokerDeadlineSeconds ?? "—"} s)
              {preview.thresholds.lateAfterSeconds !== null && `; late after ${preview.thresholds.lateAfterSeconds} s`}
              {preview.thresholds.nearMissAboveSeconds !== null &&
                `; near-miss for gaps above ${preview.thresholds.nearMissAboveSeconds} s`}
            </p>
          )}
          {preview.matching.length > 1 && (
            <p className="text-zinc-500">
              Also matching, less specific:{" "}
              {preview.matching
                .filter((r) => r.id !== preview.rule?.id)
                .map((r) => `${r.name} (${r.match})${r.enabled ? "" : " [disabled]"}`)
                .join(", ")}
            </p>
          )}
        </div>
      )}
    </section>
  );
}

"use client";

import type { Finding } from "@/lib/diagnosis/diagnose";

const STYLE: Record<Finding["severity"], { label: string; box: string; tag: string }> = {
  problem: { label: "problem", box: "border-red-500/30 bg-red-500/5", tag: "bg-red-500/15 text-red-300" },
  warning: { label: "warning", box: "border-amber-500/30 bg-amber-500/5", tag: "bg-amber-500/15 text-amber-300" },
  info: { label: "note", box: "border-zinc-700 bg-zinc-900/60", tag: "bg-zinc-700/60 text-zinc-300" },
};

/** The diagnosis in plain sentences, each with the evidence it rests on. */
export function DiagnosisPanel({ findings }: { findings: Finding[] | null }) {
  return (
    <section aria-labelledby="diagnosis-heading" data-testid="diagnosis" className="flex flex-col gap-2">
      <h2 id="diagnosis-heading" className="text-sm font-semibold text-zinc-200">
        Diagnosis
      </h2>
      {findings === null ? (
        <p className="text-xs text-zinc-500">Loading…</p>
      ) : findings.length === 0 ? (
        <p data-testid="diagnosis-none" className="text-xs text-zinc-400">
          Nothing wrong found in the recent sessions and keepalive gaps.
        </p>
      ) : (
        <ul className="flex flex-col gap-2">
          {findings.map((f) => {
            const style = STYLE[f.severity];
            return (
              <li
                key={f.code}
                data-testid="finding"
                data-code={f.code}
                className={`rounded-md border p-3 ${style.box}`}
              >
                <p className="text-[13px] leading-5 text-zinc-100">
                  <span className={`mr-2 rounded px-1.5 py-px text-[11px] font-medium ${style.tag}`}>
                    {style.label}
                  </span>
                  {f.message}
                </p>
                {f.evidence.length > 0 && (
                  <ul className="mt-1.5 list-disc pl-5 text-xs leading-5 text-zinc-400">
                    {f.evidence.map((e, i) => (
                      <li key={i}>{e}</li>
                    ))}
                  </ul>
                )}
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}

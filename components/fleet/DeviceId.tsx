"use client";

import Link from "next/link";
import { useMemo } from "react";
import { describeId, deviceHref } from "./format";

const MAX_CODES_SHOWN = 3;

/**
 * An untrusted device id as plain text: cut to a sane length, isolated from
 * the row's text direction, and flagged when it hides invisible or bidi
 * control characters. A click anywhere on the row follows this link (see DeviceTable).
 */
export function DeviceId({ id, name = null }: { id: string; name?: string | null }) {
  const d = useMemo(() => describeId(id), [id]);
  const codes = d.hidden.slice(0, MAX_CODES_SHOWN).join(" ") + (d.hidden.length > MAX_CODES_SHOWN ? " …" : "");
  return (
    <Link
      href={deviceHref(id)}
      prefetch={false}
      title={d.title}
      className="flex min-w-0 items-center gap-1.5 rounded-sm font-mono text-[12.5px] text-zinc-100 outline-none hover:text-sky-300 hover:underline focus-visible:ring-2 focus-visible:ring-sky-500"
    >
      {name && (
        <span
          dir="auto"
          data-testid="device-name"
          className="max-w-[55%] shrink-0 truncate font-sans font-medium [unicode-bidi:isolate]"
        >
          {name}
        </span>
      )}
      <span dir="auto" className={`min-w-0 truncate [unicode-bidi:isolate] ${name ? "text-zinc-400" : ""}`}>
        {d.text}
      </span>
      {d.hidden.length > 0 && (
        <span
          className="shrink-0 rounded-sm bg-amber-500/15 px-1 font-sans text-[10px] leading-4 text-amber-300"
          title={`id contains invisible or direction-changing characters: ${d.hidden.join(", ")}`}
        >
          ⚠ {codes}
        </span>
      )}
    </Link>
  );
}

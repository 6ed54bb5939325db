"use client";

import Link from "next/link";
import { useMemo } from "react";
import { describeId, deviceHref } from "./format";

const MAX_CODES_SHOWN = 3;

/**
 * An untrusted device id as plain text (never markup, never a formula): cut
 * to a sane length, isolated from the surrounding text direction, and flagged
 * when it hides invisible or bidi control characters; its name first when it
 * has one. The fleet table links it (DeviceId), history shows it as text.
 */
export function DeviceIdText({
  id,
  name = null,
  nameClass,
  showCodes = false,
}: {
  id: string;
  name?: string | null;
  /** Width of the name beside the id. */
  nameClass: string;
  /** Show the hidden characters' codes in the flag (a few), not just the flag. */
  showCodes?: boolean;
}) {
  const d = useMemo(() => describeId(id), [id]);
  const codes = d.hidden.slice(0, MAX_CODES_SHOWN).join(" ") + (d.hidden.length > MAX_CODES_SHOWN ? " …" : "");
  return (
    <>
      {name && (
        <span
          dir="auto"
          data-testid="device-name"
          className={`${nameClass} shrink-0 truncate font-sans font-medium [unicode-bidi:isolate]`}
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
          ⚠{showCodes ? ` ${codes}` : ""}
        </span>
      )}
    </>
  );
}

/** The id as the fleet row's link to the device page. A click anywhere on the row follows it (see DeviceTable). */
export function DeviceId({ id, name = null }: { id: string; name?: string | null }) {
  const title = useMemo(() => describeId(id).title, [id]);
  return (
    <Link
      href={deviceHref(id)}
      prefetch={false}
      title={title}
      className="flex min-w-0 items-center gap-1.5 rounded-sm font-mono text-[12.5px] text-zinc-100 outline-none hover:text-sky-300 hover:underline focus-visible:ring-2 focus-visible:ring-sky-500"
    >
      <DeviceIdText id={id} name={name} nameClass="max-w-[55%]" showCodes />
    </Link>
  );
}

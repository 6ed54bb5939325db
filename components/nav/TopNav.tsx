"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";
import { AlertBadge } from "@/components/alerts/AlertBadge";
import { UserMenu } from "./UserMenu";

const LINKS = [
  { href: "/", label: "Fleet", title: "live status of every device" },
  { href: "/history", label: "History", title: "disconnect history and CSV export" },
  { href: "/reports", label: "Reports", title: "uptime per device and per tag for a period, to export or print" },
  { href: "/fleet/insights", label: "Insights", title: "keepalive distribution and disconnect reasons over time" },
  { href: "/alerts", label: "Alerts", title: "firing and recent alerts, live" },
  { href: "/alerts/silences", label: "Silences", title: "mute devices for maintenance, once or every week" },
  { href: "/settings/alerts", label: "Alert rules", title: "when a device deserves attention, and where it is told" },
  { href: "/settings/channels", label: "Channels", title: "where notifications go: Slack, Teams, e-mail, …" },
] as const;

const under = (href: string, pathname: string) =>
  href === "/" ? pathname === "/" : pathname === href || pathname.startsWith(`${href}/`);

/** The section a path belongs to: the longest link it is under (/alerts/silences is Silences, not Alerts). */
const activeHref = (pathname: string): string | null =>
  LINKS.filter((l) => under(l.href, pathname)).sort((a, b) => b.href.length - a.href.length)[0]?.href ?? null;

/** The app's sections; the current one is marked for assistive technology too (aria-current). */
export function TopNav() {
  const pathname = usePathname() ?? "/";
  const current = activeHref(pathname);
  return (
    <nav aria-label="Sections" data-testid="top-nav" className="flex min-w-0 flex-wrap items-center gap-1">
      {LINKS.map((link) => {
        const active = link.href === current;
        return (
          <Link
            key={link.href}
            href={link.href}
            title={link.title}
            aria-current={active ? "page" : undefined}
            className={`rounded-md px-2 py-1 text-[13px] outline-none focus-visible:ring-2 focus-visible:ring-sky-500 ${active ? "bg-zinc-800 text-zinc-50" : "text-zinc-400 hover:bg-zinc-800/60 hover:text-zinc-200"}`}
          >
            {link.label}
            {link.href === "/alerts" && <AlertBadge />}
          </Link>
        );
      })}
      <UserMenu />
    </nav>
  );
}

/** The keepwatch mark with the section's name, for pages other than the fleet. */
export function Brand({ section }: { section: string }) {
  return (
    <div className="flex shrink-0 items-center gap-2">
      <svg
        aria-hidden="true"
        viewBox="0 0 24 24"
        className="size-5 text-emerald-400"
        fill="none"
        stroke="currentColor"
        strokeWidth="2.2"
        strokeLinecap="round"
        strokeLinejoin="round"
      >
        <path d="M2 12h4l2.5-6 4 12 3-8 1.5 2H22" />
      </svg>
      <span className="text-[15px] font-semibold tracking-tight text-zinc-50">keepwatch</span>
      <span className="text-xs text-zinc-500">{section}</span>
    </div>
  );
}

/**
 * One place for status colors, so a status looks the same in cards, badges
 * and filters. Color always comes with the status word: never color alone.
 */
import type { DeviceStatus } from "@/lib/fleet/types";

export interface StatusStyle {
  label: string;
  dot: string;
  text: string;
  badge: string;
  accent: string;
  activeRing: string;
}

export const STATUS_STYLE: Record<DeviceStatus, StatusStyle> = {
  online: {
    label: "online",
    dot: "bg-emerald-400",
    text: "text-emerald-300",
    badge: "bg-emerald-500/10 text-emerald-300 ring-emerald-500/30",
    accent: "before:bg-emerald-500",
    activeRing: "ring-emerald-500/70",
  },
  late: {
    label: "late",
    dot: "bg-amber-400",
    text: "text-amber-300",
    badge: "bg-amber-500/10 text-amber-300 ring-amber-500/35",
    accent: "before:bg-amber-500",
    activeRing: "ring-amber-500/70",
  },
  offline: {
    label: "offline",
    dot: "bg-red-500",
    text: "text-red-300",
    badge: "bg-red-500/10 text-red-300 ring-red-500/35",
    accent: "before:bg-red-500",
    activeRing: "ring-red-500/70",
  },
  unknown: {
    label: "unknown",
    dot: "bg-zinc-500",
    text: "text-zinc-300",
    badge: "bg-zinc-500/10 text-zinc-300 ring-zinc-500/35",
    accent: "before:bg-zinc-500",
    activeRing: "ring-zinc-400/70",
  },
};

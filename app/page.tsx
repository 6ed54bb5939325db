import { FleetPage } from "@/components/fleet/FleetPage";
import { tagFromQuery } from "@/components/fleet/select";
import { DEFAULT_WINDOW } from "@/lib/live/hub";
import { DEFAULT_VIEW } from "@/lib/live/views";
import type { SnapshotMessage } from "@/lib/api/dto";
import { requirePage } from "@/lib/auth/page";
import { getRuntime } from "@/lib/runtime";

type Props = { searchParams: Promise<{ tag?: string | string[] }> };

/** The first window, read in-process while rendering: rows at the first paint, before any script runs. */
function initialSnapshot(tag: string): SnapshotMessage | undefined {
  try {
    const snapshot = getRuntime().hub.snapshot({ ...DEFAULT_WINDOW, query: { ...DEFAULT_VIEW, tag } });
    // Through JSON, exactly as the stream would have sent it.
    return JSON.parse(JSON.stringify(snapshot)) as SnapshotMessage;
  } catch {
    return undefined;
  }
}

export default async function Page({ searchParams }: Props) {
  await requirePage();
  // The tag filter lives in the URL, so the first render (server and browser alike) already has it.
  const tag = tagFromQuery((await searchParams).tag);
  return <FleetPage initialTag={tag} initial={initialSnapshot(tag)} />;
}

import { FleetPage } from "@/components/fleet/FleetPage";
import { tagFromQuery } from "@/components/fleet/select";
import { requirePage } from "@/lib/auth/page";

type Props = { searchParams: Promise<{ tag?: string | string[] }> };

export default async function Page({ searchParams }: Props) {
  await requirePage();
  // The tag filter lives in the URL, so the first render (server and browser alike) already has it.
  return <FleetPage initialTag={tagFromQuery((await searchParams).tag)} />;
}

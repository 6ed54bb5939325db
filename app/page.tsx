import { FleetPage } from "@/components/fleet/FleetPage";
import { requirePage } from "@/lib/auth/page";

export default async function Page() {
  await requirePage();
  return <FleetPage />;
}

import { FleetPage } from "@/components/fleet/FleetPage";

export default function Page() {
  return <FleetPage />;
}

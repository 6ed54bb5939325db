import type { Metadata } from "next";
import { InsightsPage } from "@/components/insights/InsightsPage";
import { requirePage } from "@/lib/auth/page";

export const metadata: Metadata = { title: "Fleet insights · keepwatch" };

export default async function Page() {
  await requirePage();
  return <InsightsPage />;
}

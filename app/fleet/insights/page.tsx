import type { Metadata } from "next";
import { InsightsPage } from "@/components/insights/InsightsPage";

export const metadata: Metadata = { title: "Fleet insights · keepwatch" };

export default function Page() {
  return <InsightsPage />;
}

import type { Metadata } from "next";
import { RulesPage } from "@/components/alerts/RulesPage";

export const metadata: Metadata = { title: "Alert rules · keepwatch" };

export default function Page() {
  return <RulesPage />;
}

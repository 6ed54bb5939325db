import type { Metadata } from "next";
import { RulesPage } from "@/components/alerts/RulesPage";
import { requirePage } from "@/lib/auth/page";

export const metadata: Metadata = { title: "Alert rules · keepwatch" };

export default async function Page() {
  await requirePage();
  return <RulesPage />;
}

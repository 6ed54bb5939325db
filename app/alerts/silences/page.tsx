import type { Metadata } from "next";
import { SilencesPage } from "@/components/alerts/SilencesPage";
import { requirePage } from "@/lib/auth/page";

export const metadata: Metadata = { title: "Silences · keepwatch" };

export default async function Page() {
  await requirePage();
  return <SilencesPage />;
}

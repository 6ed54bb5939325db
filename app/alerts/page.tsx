import type { Metadata } from "next";
import { AlertsPage } from "@/components/alerts/AlertsPage";
import { requirePage } from "@/lib/auth/page";

export const metadata: Metadata = { title: "Alerts · keepwatch" };

export default async function Page() {
  await requirePage();
  return <AlertsPage />;
}

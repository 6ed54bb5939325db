import type { Metadata } from "next";
import { Suspense } from "react";
import { ReportsPage } from "@/components/reports/ReportsPage";
import { requirePage } from "@/lib/auth/page";

export const metadata: Metadata = { title: "Uptime reports · keepwatch" };

export default async function Page() {
  await requirePage();
  // The page reads its period and filters from the URL (useSearchParams), so it renders in the browser.
  return (
    <Suspense fallback={<p className="p-4 text-sm text-zinc-500">Loading the report…</p>}>
      <ReportsPage />
    </Suspense>
  );
}

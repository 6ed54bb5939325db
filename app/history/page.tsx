import type { Metadata } from "next";
import { Suspense } from "react";
import { HistoryPage } from "@/components/history/HistoryPage";
import { requirePage } from "@/lib/auth/page";

export const metadata: Metadata = { title: "Disconnect history · keepwatch" };

export default async function Page() {
  await requirePage();
  // The page reads its filters from the URL (useSearchParams), so it renders in the browser.
  return (
    <Suspense fallback={<p className="p-4 text-sm text-zinc-500">Loading history…</p>}>
      <HistoryPage />
    </Suspense>
  );
}

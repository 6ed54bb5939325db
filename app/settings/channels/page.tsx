import type { Metadata } from "next";
import { ChannelsPage } from "@/components/channels/ChannelsPage";
import { requirePage } from "@/lib/auth/page";

export const metadata: Metadata = { title: "Channels · keepwatch" };

export default async function Page() {
  await requirePage();
  return <ChannelsPage />;
}

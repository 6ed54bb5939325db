import type { Metadata } from "next";
import { SignInForm } from "@/components/access/SignInForm";

export const metadata: Metadata = { title: "Set up · keepwatch" };

/** The one-time creation of the first admin, with the token the start-up log printed. */
export default async function Page({ searchParams }: { searchParams: Promise<{ token?: string | string[] }> }) {
  const { token } = await searchParams;
  return <SignInForm mode="setup" next="/" token={typeof token === "string" ? token : ""} />;
}

import type { Metadata } from "next";
import { SignInForm } from "@/components/access/SignInForm";
import { safeNext } from "@/lib/auth/page";

export const metadata: Metadata = { title: "Sign in · keepwatch" };

export default async function Page({ searchParams }: { searchParams: Promise<{ next?: string | string[] }> }) {
  const { next } = await searchParams;
  return <SignInForm mode="login" next={safeNext(typeof next === "string" ? next : null)} />;
}

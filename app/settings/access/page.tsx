import type { Metadata } from "next";
import { AccessPage } from "@/components/access/AccessPage";
import { pageAccess } from "@/lib/auth/page";

export const metadata: Metadata = { title: "Access · keepwatch" };

export default async function Page() {
  const { principal, allowed } = await pageAccess("admin");
  if (!allowed)
    return (
      <p data-testid="forbidden" className="p-6 text-sm text-zinc-300">
        Users, tokens and the audit log need the admin role; you are signed in as {principal.name} ({principal.role}).
      </p>
    );
  return <AccessPage />;
}

import type { Metadata } from "next";
import { connection } from "next/server";
import { ApiReference } from "@/components/docs/ApiReference";
import { openApiDocument } from "@/lib/api/openapi/document";

export const metadata: Metadata = { title: "API reference · keepwatch" };

/** Public like /api/openapi.json; rendered per request so its scripts carry the CSP nonce (proxy.ts). */
export default async function Page() {
  await connection();
  return <ApiReference doc={openApiDocument()} />;
}

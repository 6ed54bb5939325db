import type { Metadata, Viewport } from "next";
import type { ReactNode } from "react";
import { QueryProvider } from "@/components/api/QueryProvider";
import "./globals.css";

// No `title` here: the fleet page renders its own <title> with live counts, which a metadata title would override.
export const metadata: Metadata = {
  description: "Live heartbeat monitor for fleets of MQTT devices",
};

export const viewport: Viewport = { colorScheme: "dark", themeColor: "#09090b" };

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <QueryProvider>{children}</QueryProvider>
      </body>
    </html>
  );
}

import type { Metadata } from "next";
import { DevicePage } from "@/components/device/DevicePage";

type Params = { params: Promise<{ id: string }> };
type Props = Params & { searchParams: Promise<{ range?: string | string[] }> };

/** The segment as the URL carries it, percent-decoded once (an undecodable one stays as it is). */
function deviceId(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

export async function generateMetadata({ params }: Params): Promise<Metadata> {
  const id = deviceId((await params).id);
  return { title: `${id.length > 80 ? `${id.slice(0, 80)}…` : id} · keepwatch` };
}

export default async function Page({ params, searchParams }: Props) {
  const { range } = await searchParams;
  return <DevicePage id={deviceId((await params).id)} initialRange={typeof range === "string" ? range : null} />;
}

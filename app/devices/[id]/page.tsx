import type { Metadata } from "next";
import { DevicePage, type DevicePageProps } from "@/components/device/DevicePage";
import { activityQuery, rangeOf } from "@/components/device/timeline";
import { getDeviceActivity, parseActivityQuery } from "@/lib/api/activity";
import { getDeviceDetail } from "@/lib/api/devices";
import { getRuntime } from "@/lib/runtime";
import type { AppError } from "@/lib/api/errors";
import { requirePage } from "@/lib/auth/page";

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

/**
 * The device and its timeline as the page first shows them, read in-process
 * while rendering (no browser round trip before the first paint); null parts
 * are fetched by the browser as usual.
 */
async function initialData(id: string, range: string): Promise<DevicePageProps["initial"]> {
  const now = Date.now();
  try {
    const runtime = getRuntime();
    const query = parseActivityQuery(`http://keepwatch/activity?${activityQuery(rangeOf(range).key, now)}`, now);
    const [device, activity] = await Promise.all([
      // Never seen: null (the page says so); any other failure: left to the browser to fetch.
      // (Matched by code: the error may come from another copy of the module in the server bundle.)
      getDeviceDetail(runtime, id).catch((e: unknown) =>
        (e as Partial<AppError>)?.code === "DEVICE_NOT_FOUND" ? null : undefined,
      ),
      getDeviceActivity(runtime, id, query).catch(() => null),
    ]);
    // Through JSON, exactly as the API would have answered.
    return JSON.parse(JSON.stringify({ now, device, activity }));
  } catch {
    return undefined;
  }
}

export default async function Page({ params, searchParams }: Props) {
  await requirePage();
  const { range } = await searchParams;
  const initialRange = typeof range === "string" ? range : null;
  const id = deviceId((await params).id);
  return <DevicePage id={id} initialRange={initialRange} initial={await initialData(id, initialRange ?? "1h")} />;
}

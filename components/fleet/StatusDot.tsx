import type { DeviceStatus } from "@/lib/fleet/types";
import { STATUS_STYLE } from "./status-style";

export function StatusDot({ status, pulse = false }: { status: DeviceStatus; pulse?: boolean }) {
  return (
    <span aria-hidden="true" className="relative inline-flex size-2 shrink-0">
      {pulse && (
        <span
          className={`absolute inline-flex size-full animate-ping rounded-full opacity-60 ${STATUS_STYLE[status].dot}`}
        />
      )}
      <span className={`relative inline-flex size-2 rounded-full ${STATUS_STYLE[status].dot}`} />
    </span>
  );
}

/** Column layout shared by the header and every row of the device table. */
import type { SortKey } from "./select";

export interface Column {
  key: string;
  label: string;
  sortKey?: SortKey;
  align?: "right";
  hint?: string;
}

export const COLUMNS: readonly Column[] = [
  { key: "id", label: "Device id", sortKey: "id" },
  { key: "status", label: "Status", sortKey: "status", hint: "status and how long it has held" },
  {
    key: "keepalive",
    label: "Keepalive",
    sortKey: "keepalive",
    align: "right",
    hint: "Keep Alive the client asked for in CONNECT",
  },
  {
    key: "lastSeen",
    label: "Last seen",
    sortKey: "lastSeen",
    hint: "last sign of life: connect, ping, publish or status",
  },
  { key: "connected", label: "Connected since", hint: "start of the open session" },
  { key: "lastDisconnect", label: "Last disconnect", hint: "why and when the last session ended" },
  {
    key: "disconnects",
    label: "Drops",
    sortKey: "disconnectCount",
    align: "right",
    hint: "disconnects counted by the monitor",
  },
  { key: "sources", label: "Sources", hint: "signal sources behind the verdict" },
];

/** Fixed tracks for everything but the id and reason, which share the spare width. */
export const GRID_COLUMNS =
  "grid-cols-[minmax(15rem,1.6fr)_13.5rem_5.5rem_7.5rem_9rem_minmax(16rem,1.5fr)_4.5rem_9.5rem]";
export const TABLE_MIN_WIDTH = "min-w-[81.5rem]";
export const ROW_HEIGHT = 30;
export const HEADER_HEIGHT = 32;

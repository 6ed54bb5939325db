import type { AdapterResult } from "../events";

/** What the worker knows about one received MQTT message besides topic and payload. */
export interface AdapterContext {
  /** When the monitor received the message (epoch ms). */
  receivedAt: number;
  /** The broker replayed a retained message on subscribe: it tells state, not fresh activity. */
  retained: boolean;
}

/**
 * One signal source. `parse` is pure: no I/O, no clock, no state between calls.
 * Call it only for topics where `matches` is true.
 */
export interface Adapter {
  readonly name: string;
  matches(topic: string): boolean;
  parse(topic: string, payload: Buffer | string, ctx: AdapterContext): AdapterResult;
}

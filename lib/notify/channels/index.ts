/** Every channel type by name (one module each in this folder). */
import type { ChannelType, ChannelTypeName } from "./types";
import { webhook } from "./webhook";

export const CHANNEL_REGISTRY: Partial<Record<ChannelTypeName, ChannelType<never>>> = {
  webhook: webhook as ChannelType<never>,
};

export function channelType(type: string): ChannelType<unknown> | null {
  return (CHANNEL_REGISTRY as Record<string, ChannelType<unknown> | undefined>)[type] ?? null;
}

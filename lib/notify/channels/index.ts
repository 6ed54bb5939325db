/** Every channel type by name (one module each in this folder). */
import { discord } from "./discord";
import { email } from "./email";
import { ntfy } from "./ntfy";
import { slack } from "./slack";
import { teams } from "./teams";
import { telegram } from "./telegram";
import type { ChannelType, ChannelTypeName } from "./types";
import { webhook } from "./webhook";

export const CHANNEL_REGISTRY: Record<ChannelTypeName, ChannelType<never>> = {
  webhook: webhook as ChannelType<never>,
  slack: slack as ChannelType<never>,
  teams: teams as ChannelType<never>,
  discord: discord as ChannelType<never>,
  telegram: telegram as ChannelType<never>,
  ntfy: ntfy as ChannelType<never>,
  email: email as ChannelType<never>,
};

export function channelType(type: string): ChannelType<unknown> | null {
  return (CHANNEL_REGISTRY as Record<string, ChannelType<unknown> | undefined>)[type] ?? null;
}

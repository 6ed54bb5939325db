import { route } from "@/lib/api/route";
import { channelDto, channelTypeDtos, readChannelBody } from "@/lib/api/channels";
import { parseQuery } from "@/lib/api/query";
import { requireDb } from "@/lib/api/runtime-db";
import { AppError } from "@/lib/api/errors";
import { channelCounts, createChannel, listChannels, MAX_CHANNELS } from "@/lib/store/notifications";

export const dynamic = "force-dynamic";

/** Every channel (secrets masked) and what the form needs to know of each type. */
export const GET = route("viewer", async (request, { runtime }) => {
  parseQuery(request.url, {});
  const db = requireDb(runtime);
  const [channels, counts] = await Promise.all([listChannels(db), channelCounts(db)]);
  return Response.json({ channels: channels.map((c) => channelDto(c, counts)), types: channelTypeDtos() });
});

export const POST = route("operator", async (request, { runtime, principal, ip }) => {
  const db = requireDb(runtime);
  const input = await readChannelBody(request, null, { allow: runtime.webhookAllow, role: principal.role });
  if ((await listChannels(db)).length >= MAX_CHANNELS)
    throw new AppError("CONFLICT", `at most ${MAX_CHANNELS} channels; delete some first`);
  const channel = await createChannel(db, input);
  await runtime.auth.audit({
    actor: principal.name,
    action: "channel.create",
    target: `channel:${channel.id} ${channel.type} ${channel.name}`,
    ip,
  });
  await runtime.changed("channels");
  return Response.json({ channel: channelDto(channel) }, { status: 201 });
});

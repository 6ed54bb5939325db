import { route } from "@/lib/api/route";
import { channelDto, parseChannelId, readChannelBody } from "@/lib/api/channels";
import { requireDb } from "@/lib/api/runtime-db";
import { AppError } from "@/lib/api/errors";
import { channelCounts, deleteChannel, getChannel, updateChannel } from "@/lib/store/notifications";

export const dynamic = "force-dynamic";

const notFound = (id: number) => new AppError("NOT_FOUND", `no channel with id ${id}`);

export const GET = route<{ id: string }>("viewer", async (_request, { params, runtime }) => {
  const db = requireDb(runtime);
  const id = parseChannelId(params.id);
  const channel = await getChannel(db, id);
  if (!channel) throw notFound(id);
  return Response.json({ channel: channelDto(channel, await channelCounts(db)) });
});

export const PUT = route<{ id: string }>("operator", async (request, { params, runtime, principal, ip }) => {
  const db = requireDb(runtime);
  const id = parseChannelId(params.id);
  const existing = await getChannel(db, id);
  if (!existing) throw notFound(id);
  const input = await readChannelBody(request, existing, { allow: runtime.webhookAllow, role: principal.role });
  const channel = await updateChannel(db, id, input);
  if (!channel) throw notFound(id);
  await runtime.auth.audit({
    actor: principal.name,
    action: "channel.update",
    target: `channel:${id} ${channel.type} ${channel.name}`,
    ip,
  });
  await runtime.changed("channels");
  return Response.json({ channel: channelDto(channel, await channelCounts(db)) });
});

/** Deletes the channel with its waiting notifications; rules stop pointing at it; the delivery log stays. */
export const DELETE = route<{ id: string }>("operator", async (_request, { params, runtime, principal, ip }) => {
  const id = parseChannelId(params.id);
  if (!(await deleteChannel(requireDb(runtime), id))) throw notFound(id);
  await runtime.auth.audit({ actor: principal.name, action: "channel.delete", target: `channel:${id}`, ip });
  await runtime.changed("channels");
  return new Response(null, { status: 204 });
});

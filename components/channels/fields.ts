/**
 * The channel form's fields per type, pure: what each type asks for, the
 * draft the form edits, and the request body it becomes (secrets sent back
 * masked as they were shown keep the stored ones; the server validates).
 */
import type { ChannelDto } from "@/lib/notify/dto";
import type { ChannelTypeName } from "@/lib/notify/channels/types";

export interface FieldSpec {
  key: string;
  label: string;
  kind: "text" | "number" | "checkbox" | "headers";
  secret?: boolean;
  optional?: boolean;
  hint?: string;
}

export const TYPE_FIELDS: Record<ChannelTypeName, FieldSpec[]> = {
  webhook: [
    { key: "url", label: "URL", kind: "text", secret: true },
    {
      key: "secret",
      label: "Signing secret",
      kind: "text",
      secret: true,
      optional: true,
      hint: "HMAC-SHA256; ≥ 16 characters",
    },
    { key: "headers", label: "Headers", kind: "headers", optional: true, hint: "one per line: Name: value" },
  ],
  slack: [{ key: "url", label: "Incoming webhook URL", kind: "text", secret: true }],
  teams: [{ key: "url", label: "Workflows webhook URL", kind: "text", secret: true }],
  discord: [{ key: "url", label: "Webhook URL", kind: "text", secret: true }],
  telegram: [
    { key: "botToken", label: "Bot token", kind: "text", secret: true, hint: "from @BotFather" },
    { key: "chatId", label: "Chat id", kind: "text", hint: "-100… or @channelname" },
    { key: "apiBase", label: "Bot API server", kind: "text", optional: true, hint: "default https://api.telegram.org" },
  ],
  ntfy: [
    { key: "server", label: "Server", kind: "text", optional: true, hint: "default https://ntfy.sh" },
    { key: "topic", label: "Topic", kind: "text" },
    { key: "token", label: "Access token", kind: "text", secret: true, optional: true },
  ],
  email: [
    { key: "host", label: "SMTP host", kind: "text" },
    { key: "port", label: "Port", kind: "number", hint: "587 STARTTLS, 465 TLS" },
    { key: "secure", label: "TLS from the start", kind: "checkbox" },
    { key: "user", label: "User", kind: "text", optional: true },
    { key: "password", label: "Password", kind: "text", secret: true, optional: true },
    { key: "from", label: "From", kind: "text" },
    { key: "to", label: "To", kind: "text", hint: "comma-separated" },
  ],
};

export interface ChannelDraft {
  name: string;
  type: ChannelTypeName;
  enabled: boolean;
  defaultForSystem: boolean;
  ratePerMinute: string;
  config: Record<string, string | boolean>;
}

export function emptyDraft(type: ChannelTypeName = "webhook"): ChannelDraft {
  const config: Record<string, string | boolean> = {};
  for (const f of TYPE_FIELDS[type]) config[f.key] = f.kind === "checkbox" ? false : "";
  if (type === "email") config.port = "587";
  return { name: "", type, enabled: true, defaultForSystem: false, ratePerMinute: "", config };
}

/** The draft of a saved channel: its masked config as shown. */
export function toDraft(c: ChannelDto): ChannelDraft {
  const draft = emptyDraft(c.type);
  for (const f of TYPE_FIELDS[c.type]) {
    const v = c.config[f.key];
    if (f.kind === "checkbox") draft.config[f.key] = v === true;
    else if (f.kind === "headers")
      draft.config[f.key] = Object.entries((v ?? {}) as Record<string, string>)
        .map(([k, val]) => `${k}: ${val}`)
        .join("\n");
    else draft.config[f.key] = v === null || v === undefined ? "" : String(v);
  }
  return {
    ...draft,
    name: c.name,
    enabled: c.enabled,
    defaultForSystem: c.defaultForSystem,
    ratePerMinute: c.ratePerMinute === null ? "" : String(c.ratePerMinute),
  };
}

/** "Name: value" lines → a header map; a line without a colon stays as a name with an empty value (the server names it). */
export function parseHeaders(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const i = line.indexOf(":");
    if (i < 0) out[line.trim()] = "";
    else out[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  return out;
}

/** The request body; what does not parse goes as typed, for the server to name. */
export function toBody(d: ChannelDraft): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  for (const f of TYPE_FIELDS[d.type]) {
    const v = d.config[f.key];
    if (f.kind === "checkbox") config[f.key] = v === true;
    else if (f.kind === "headers") {
      const h = parseHeaders(String(v ?? ""));
      if (Object.keys(h).length > 0) config[f.key] = h;
    } else if (f.kind === "number") {
      const s = String(v ?? "").trim();
      config[f.key] = s === "" ? undefined : Number.isNaN(Number(s)) ? s : Number(s);
    } else {
      const s = String(v ?? "").trim();
      if (s !== "" || !f.optional) config[f.key] = s;
    }
  }
  const rate = d.ratePerMinute.trim();
  return {
    name: d.name.trim(),
    type: d.type,
    config,
    enabled: d.enabled,
    defaultForSystem: d.defaultForSystem,
    ratePerMinute: rate === "" ? null : Number.isNaN(Number(rate)) ? rate : Number(rate),
  };
}

/** Where a channel sends, in a few words, from its masked config. */
export function targetOf(c: ChannelDto): string {
  const cfg = c.config;
  const parts = [
    cfg.url,
    cfg.server ?? (c.type === "ntfy" ? "ntfy.sh" : null),
    cfg.topic,
    cfg.chatId,
    cfg.to,
    cfg.host,
  ];
  return parts.filter((p) => typeof p === "string" && p !== "").join(" · ");
}

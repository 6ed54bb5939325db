/**
 * What every channel type provides (one module per type in this folder):
 * how its settings are validated, which of them are secrets and how they are
 * shown masked, where it connects, its default rate limit, and how it sends
 * a message (one event, or a digest) built from the one event model
 * (lib/notify/events.ts).
 *
 * HTTP channels render a request (pure, snapshot-tested) and send it through
 * `sendHttp` (lib/notify/channels/http.ts); e-mail renders a mail and sends it
 * through nodemailer.
 */
import type { z } from "../../zod";
import type { Message } from "../events";

export const CHANNEL_TYPES = ["webhook", "slack", "teams", "discord", "telegram", "ntfy", "email"] as const;
export type ChannelTypeName = (typeof CHANNEL_TYPES)[number];

/** The result of one attempt. */
export interface SendOutcome {
  ok: boolean;
  statusCode: number | null;
  error: string | null;
  /** false: do not try again (the destination was refused, or the request can never succeed). */
  retryable: boolean;
}

/** What a channel may use to send. */
export interface SendContext {
  /** Outbound HTTP through the egress guard (no private addresses unless allowed, no redirects). */
  fetch(url: string, init: RequestInit): Promise<Response>;
  /** A host name or address checked like webhook destinations; resolves to the address to connect to. */
  checkHost(host: string): Promise<string>;
  /** Cancels the attempt (timeout or shutdown). */
  signal: AbortSignal;
  timeoutMs: number;
  userAgent: string;
}

/** A rendered HTTP request. */
export interface HttpRequestSpec {
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface ChannelType<C = unknown> {
  type: ChannelTypeName;
  /** For people: "Slack", "Microsoft Teams", … */
  label: string;
  /** Validates the config; messages name the field. */
  schema: z.ZodType<C>;
  /**
   * Fields that are secrets: write-only, returned masked. A masked value sent
   * back unchanged (as the form does) keeps the stored secret.
   */
  secretFields: readonly string[];
  /** The config as the API shows it: every secret, and the secret parts of URLs, masked. */
  mask(config: C): Record<string, unknown>;
  /** URLs it connects to, checked like webhook destinations when the channel is saved. */
  destinations(config: C): string[];
  /** Messages per minute when the channel does not set its own; null: no limit. */
  defaultRatePerMinute: number | null;
  send(config: C, message: Message, ctx: SendContext): Promise<SendOutcome>;
}

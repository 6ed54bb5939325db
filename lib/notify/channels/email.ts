/**
 * E-mail through SMTP with nodemailer: a plain-text and a simple HTML body,
 * the event's id in `X-Keepwatch-Event-Id`. `secure: true` is TLS from the
 * first byte (usually port 465); otherwise STARTTLS is used when the server
 * offers it (587, 25). The host is resolved and checked like a webhook
 * destination before connecting, and the connection goes to the checked
 * address (the certificate is still verified against the host name).
 */
import { isIP } from "node:net";
import nodemailer from "nodemailer";
import { z } from "../../zod";
import { DIGEST_ITEMS, digestSummary, facts, headline, type Message } from "../events";
import { maskSecret } from "../mask";
import { describeError } from "./http";
import type { ChannelType, SendContext, SendOutcome } from "./types";

const EMAIL = /^[^\s@<>,;"]+@[^\s@<>,;"]+\.[^\s@<>,;"]+$/;

export const emailConfig = z.object({
  host: z
    .string({ error: "host is required" })
    .trim()
    .min(1, "host is required")
    .max(253, "host must be at most 253 characters")
    .regex(/^[A-Za-z0-9.:[\]-]+$/, "host must be a host name or an address"),
  port: z
    .number({ error: "port must be a number" })
    .int()
    .min(1, "port must be 1–65535")
    .max(65535, "port must be 1–65535")
    .default(587),
  secure: z.boolean({ error: "secure must be true or false" }).default(false),
  user: z.string().trim().max(256, "user must be at most 256 characters").optional().nullable(),
  password: z.string().max(256, "password must be at most 256 characters").optional().nullable(),
  from: z.string({ error: "from is required" }).trim().regex(EMAIL, "from must be an e-mail address"),
  to: z
    .string({ error: "to is required" })
    .trim()
    .min(1, "to is required")
    .refine((v) => {
      const list = v.split(",").map((s) => s.trim());
      return list.length <= 20 && list.every((a) => EMAIL.test(a));
    }, "to must be up to 20 e-mail addresses, separated by commas"),
});
export type EmailConfig = z.infer<typeof emailConfig>;

export interface RenderedMail {
  from: string;
  to: string[];
  subject: string;
  text: string;
  html: string;
  headers: Record<string, string>;
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

export function renderEmail(config: EmailConfig, message: Message): RenderedMail {
  const to = config.to.split(",").map((s) => s.trim());
  if (message.kind === "digest") {
    const { digest } = message;
    const summary = digestSummary(digest.events);
    const items = digest.events.slice(0, DIGEST_ITEMS).map(headline);
    const more = digest.events.length - DIGEST_ITEMS;
    if (more > 0) items.push(`…and ${more} more`);
    return {
      from: config.from,
      to,
      subject: `[keepwatch] ${summary}`,
      text: `${summary}\n\n${items.map((i) => `- ${i}`).join("\n")}\n`,
      html: `<p><b>${esc(summary)}</b></p><ul>${items.map((i) => `<li>${esc(i)}</li>`).join("")}</ul>`,
      headers: { "X-Keepwatch-Event-Id": digest.id },
    };
  }
  const e = message.event;
  const rows = facts(e);
  const text = [headline(e), "", ...rows.map(([k, v]) => `${k}: ${v}`), ...(e.link ? ["", e.link] : [])].join("\n");
  const html =
    `<p><b>${esc(headline(e))}</b></p><table cellpadding="4">` +
    rows.map(([k, v]) => `<tr><th align="left">${esc(k)}</th><td>${esc(v)}</td></tr>`).join("") +
    `</table>` +
    (e.link ? `<p><a href="${esc(e.link)}">Open in keepwatch</a></p>` : "");
  return {
    from: config.from,
    to,
    subject: headline(e),
    text: `${text}\n`,
    html,
    headers: { "X-Keepwatch-Event-Id": e.id },
  };
}

/** SMTP answers that will not change on another try: authentication, refused sender or recipients, 5xx. */
function permanent(e: unknown): boolean {
  const err = e as { code?: string; responseCode?: number };
  if (err.code === "EAUTH" || err.code === "EENVELOPE") return true;
  return typeof err.responseCode === "number" && err.responseCode >= 500 && err.responseCode < 600;
}

async function sendEmail(config: EmailConfig, message: Message, ctx: SendContext): Promise<SendOutcome> {
  let address: string;
  try {
    address = await ctx.checkHost(config.host);
  } catch (e) {
    return {
      ok: false,
      statusCode: null,
      error: describeError(e),
      retryable: !/^refused/.test(String((e as Error)?.message)),
    };
  }
  const transport = nodemailer.createTransport({
    host: address,
    port: config.port,
    secure: config.secure,
    auth: config.user ? { user: config.user, pass: config.password ?? "" } : undefined,
    // The certificate is checked against the name, though the connection goes to the checked address.
    tls: isIP(config.host.replace(/^\[|\]$/g, "")) ? undefined : { servername: config.host },
    connectionTimeout: ctx.timeoutMs,
    greetingTimeout: ctx.timeoutMs,
    socketTimeout: ctx.timeoutMs,
  });
  const abort = () => transport.close();
  ctx.signal.addEventListener("abort", abort, { once: true });
  try {
    const info = await transport.sendMail(renderEmail(config, message));
    const rejected = (info.rejected ?? []).length;
    if (rejected > 0 && (info.accepted ?? []).length === 0)
      return { ok: false, statusCode: null, error: `every recipient refused: ${info.response}`, retryable: false };
    return { ok: true, statusCode: null, error: null, retryable: false };
  } catch (e) {
    if (ctx.signal.aborted)
      return { ok: false, statusCode: null, error: "aborted: timed out or stopping", retryable: true };
    const code = (e as { responseCode?: number }).responseCode;
    return { ok: false, statusCode: code ?? null, error: describeError(e), retryable: !permanent(e) };
  } finally {
    ctx.signal.removeEventListener("abort", abort);
    transport.close();
  }
}

export const email: ChannelType<EmailConfig> = {
  type: "email",
  label: "E-mail",
  schema: emailConfig,
  secretFields: ["password"],
  mask: (c) => ({
    host: c.host,
    port: c.port,
    secure: c.secure,
    user: c.user ?? null,
    password: c.password ? maskSecret(c.password) : null,
    from: c.from,
    to: c.to,
  }),
  destinations: () => [],
  defaultRatePerMinute: 30,
  send: sendEmail,
};

/**
 * Checks a rendered payload against the JSON schema of the service it goes
 * to (this folder; each written from that service's documentation). Used by
 * the template tests and by the integration tests' local receivers.
 */
import { Ajv } from "ajv";
import discord from "./discord.json";
import ntfyHeaders from "./ntfy-headers.json";
import slack from "./slack.json";
import teams from "./teams.json";
import telegram from "./telegram.json";

const SCHEMAS = { slack, teams, discord, telegram, "ntfy-headers": ntfyHeaders } as const;
export type PayloadKind = keyof typeof SCHEMAS;

const ajv = new Ajv({ allErrors: true, strict: false });
const URI = /^https?:\/\/[^\s]+$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
ajv.addFormat("uri", URI);
ajv.addFormat("date-time", DATE_TIME);
const compiled = Object.fromEntries(Object.entries(SCHEMAS).map(([k, s]) => [k, ajv.compile(s)]));

/** The schema's complaints about the payload; empty when it fits. */
export function validatePayload(kind: PayloadKind, payload: unknown): string[] {
  const check = compiled[kind];
  if (check(payload)) return [];
  return (check.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message ?? "is invalid"}`);
}

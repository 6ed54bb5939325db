/**
 * Where webhooks may go: never into the monitor's own network unless the
 * operator says so (KEEPWATCH_WEBHOOK_ALLOW).
 *
 * Refused: loopback, private (RFC 1918), link-local (169.254/16, fe80::/10),
 * carrier-grade NAT (100.64/10), multicast, unspecified (0.0.0.0, ::),
 * broadcast, reserved, IPv6 unique-local (fc00::/7) and every other range
 * ipaddr.js names as special-purpose (NAT64, 6to4, Teredo, documentation,
 * benchmarking, …) plus IPv4-compatible IPv6 (::a.b.c.d); an IPv4-mapped IPv6
 * address (::ffff:a.b.c.d) is judged by its IPv4. Only what ipaddr.js calls
 * `unicast` passes, or what the allow list names (host name, IP or CIDR).
 *
 * Checked twice:
 * - when a rule is saved (`checkWebhookUrl`): scheme, no credentials, a
 *   literal IP directly, a DNS name by resolving it (refused if ANY address
 *   is blocked or it does not resolve);
 * - when a delivery connects (`createEgress`): an undici Agent whose
 *   `connect.lookup` resolves the name itself and fails the connection when
 *   an address is blocked, so a name that changes its answer after the save
 *   (DNS rebinding) is still refused; literal-IP hosts skip lookup, so they
 *   are checked before the request. Redirects are never followed.
 *
 * The pure parts (parseAllowList, blockedAddress, urlProblem) do no I/O.
 */
import { promises as dns } from "node:dns";
import { isIP, type LookupFunction } from "node:net";
import ipaddr from "ipaddr.js";
import { Agent, fetch as undiciFetch } from "undici";

type Address = ipaddr.IPv4 | ipaddr.IPv6;

export interface AllowList {
  /** Host names (lower case, no trailing dot) allowed whatever they resolve to. */
  readonly names: ReadonlySet<string>;
  /** IP ranges allowed; IPv4-mapped IPv6 entries are kept as their IPv4. */
  readonly ranges: ReadonlyArray<readonly [Address, number]>;
}

export const EMPTY_ALLOW_LIST: AllowList = { names: new Set(), ranges: [] };

/** Resolves a host name to all its addresses (dns.promises.lookup with `all: true` by default). */
export type Resolver = (host: string) => Promise<ReadonlyArray<{ address: string; family: number }>>;

export const systemResolver: Resolver = (host) => dns.lookup(host, { all: true });

const HOST_NAME =
  /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*$/;
const ALLOW_SETTING = "KEEPWATCH_WEBHOOK_ALLOW";

const stripBrackets = (host: string) => (host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host);
const normalizeName = (host: string) => host.toLowerCase().replace(/\.$/, "");

/** A literal address in its usual spellings only (four-part dotted IPv4, or IPv6), or null. */
function parseLiteral(text: string): Address | null {
  const bare = stripBrackets(text);
  if (ipaddr.IPv4.isValidFourPartDecimal(bare)) return ipaddr.IPv4.parse(bare);
  if (bare.includes(":") && ipaddr.IPv6.isValid(bare)) return ipaddr.IPv6.parse(bare);
  return null;
}

/** An IPv4-mapped IPv6 address as its IPv4 (as ipaddr.process does), anything else as it is. */
function unmapped(addr: Address): Address {
  return addr.kind() === "ipv6" && (addr as ipaddr.IPv6).isIPv4MappedAddress()
    ? (addr as ipaddr.IPv6).toIPv4Address()
    : addr;
}

function parseAllowEntry(entry: string): { name: string } | { range: readonly [Address, number] } {
  const bad = (why: string) => new Error(`${ALLOW_SETTING}: "${entry}" is not ${why}`);
  const slash = entry.lastIndexOf("/");
  const addr = slash > 0 ? parseLiteral(entry.slice(0, slash)) : null;
  if (addr) {
    const bitsText = entry.slice(slash + 1);
    if (!/^[0-9]{1,3}$/.test(bitsText) || Number(bitsText) > (addr.kind() === "ipv4" ? 32 : 128))
      throw bad("a CIDR range (like 10.0.0.0/8 or fd00::/8)");
    const bits = Number(bitsText);
    if (addr.kind() === "ipv6" && (addr as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96)
      return { range: [(addr as ipaddr.IPv6).toIPv4Address(), bits - 96] };
    return { range: [addr, bits] };
  }
  const literal = parseLiteral(entry);
  if (literal) {
    const single = unmapped(literal);
    return { range: [single, single.kind() === "ipv4" ? 32 : 128] };
  }
  const name = normalizeName(entry);
  // A host name has a letter, "-" or "_" somewhere: "10.0.0" or "300.1.1.1" are mistyped addresses.
  if (!HOST_NAME.test(name) || !/[a-z_-]/.test(name)) throw bad("a host name, an IP address or a CIDR range");
  return { name };
}

/**
 * Parses KEEPWATCH_WEBHOOK_ALLOW: comma-separated host names, IP addresses or
 * CIDR ranges (IPv4 and IPv6); spaces and empty entries are ignored. A bad
 * entry throws an Error naming it.
 */
export function parseAllowList(text: string): AllowList {
  const names = new Set<string>();
  const ranges: Array<readonly [Address, number]> = [];
  for (const raw of text.split(",")) {
    const entry = raw.trim();
    if (entry === "") continue;
    const parsed = parseAllowEntry(entry);
    if ("name" in parsed) names.add(parsed.name);
    else ranges.push(parsed.range);
  }
  return { names, ranges };
}

/** The host name is listed by name in the allow list. */
export function allowedName(host: string, allow: AllowList): boolean {
  return allow.names.has(normalizeName(stripBrackets(host)));
}

function inAllowList(addr: Address, allow: AllowList): boolean {
  return allow.ranges.some(([net, bits]) => net.kind() === addr.kind() && addr.match(net, bits));
}

const RANGE_WORDS: Record<string, string> = {
  loopback: "a loopback address",
  private: "a private (RFC 1918) address",
  linkLocal: "a link-local address",
  carrierGradeNat: "a carrier-grade NAT (100.64.0.0/10) address",
  multicast: "a multicast address",
  unspecified: "an unspecified address",
  broadcast: "the broadcast address",
  reserved: "a reserved address",
  uniqueLocal: "an IPv6 unique-local (fc00::/7) address",
  deprecatedSiteLocal: "an IPv6 site-local address",
  rfc6052: "a NAT64 address",
  rfc6145: "an IPv4-translated address",
  "6to4": "a 6to4 address",
  teredo: "a Teredo address",
};

const IPV4_COMPATIBLE = ipaddr.IPv6.parseCIDR("::/96");

/**
 * Why an address may not be a webhook destination, as "a loopback address"
 * (or "an IPv4-mapped address of 127.0.0.1, a loopback address"), or null
 * when it may: public unicast, or in the allow list.
 */
function addressProblem(ip: string, allow: AllowList): string | null {
  const bare = stripBrackets(ip);
  if (!ipaddr.isValid(bare)) return "not an IP address";
  const parsed = ipaddr.parse(bare);
  const addr = unmapped(parsed);
  if (inAllowList(addr, allow)) return null;
  let range: string = addr.range();
  if (range === "unicast" && addr.kind() === "ipv6" && addr.match(IPV4_COMPATIBLE)) range = "ipv4Compatible";
  if (range === "unicast") return null;
  const words =
    RANGE_WORDS[range] ??
    (range === "ipv4Compatible" ? "an IPv4-compatible IPv6 address" : `a special-purpose address (${range})`);
  return addr === parsed ? words : `an IPv4-mapped address of ${addr.toString()}, ${words}`;
}

/**
 * Why `ip` may not be a webhook destination (e.g. "127.0.0.1 is a loopback
 * address"), or null when it may. Accepts IPv6 with or without [ ].
 */
export function blockedAddress(ip: string, allow: AllowList): string | null {
  const problem = addressProblem(ip, allow);
  return problem === null ? null : `${ip} is ${problem}`;
}

const ALLOW_HINT = `list it in ${ALLOW_SETTING} to allow it`;

/**
 * A verdict on a webhook URL; `reason` says what is wrong with the URL, to
 * follow its name: "points at 127.0.0.1, a loopback address; list it in
 * KEEPWATCH_WEBHOOK_ALLOW to allow it".
 */
export type UrlVerdict = { ok: true } | { ok: false; reason: string };

/**
 * The checks that need no DNS: the scheme, credentials, and a literal IP
 * host. `host` is the name left to resolve (null when there is none: a
 * literal IP, or a name allowed by name).
 */
export function urlProblem(url: string | URL, allow: AllowList): { reason: string } | { host: string | null } {
  let parsed: URL;
  try {
    parsed = typeof url === "string" ? new URL(url) : url;
  } catch {
    return { reason: "is not a URL" };
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:")
    return { reason: `must be an http:// or https:// URL, not ${parsed.protocol}//` };
  if (parsed.username !== "" || parsed.password !== "")
    return { reason: "must not carry credentials (put a token in the path or query instead)" };
  const host = stripBrackets(parsed.hostname);
  if (host === "") return { reason: "has no host" };
  if (isIP(host) !== 0) {
    const problem = addressProblem(host, allow);
    return problem === null ? { host: null } : { reason: `points at ${host}, ${problem}; ${ALLOW_HINT}` };
  }
  return { host: allowedName(host, allow) ? null : host };
}

/** Why a name that resolved to `addresses` may not be connected to (ANY blocked address), or null. */
function addressesProblem(
  host: string,
  addresses: ReadonlyArray<{ address: string }>,
  allow: AllowList,
): string | null {
  if (addresses.length === 0) return `points at ${host}, which does not resolve`;
  for (const { address } of addresses) {
    const problem = addressProblem(address, allow);
    if (problem !== null) return `points at ${host}, which resolves to ${address}, ${problem}; ${ALLOW_HINT}`;
  }
  return null;
}

/**
 * Whether a webhook URL may be saved: http(s) only, no credentials, a
 * literal IP checked directly, a name (unless allowed by name) resolved and
 * refused if any address is blocked or it does not resolve.
 */
export async function checkWebhookUrl(
  url: string | URL,
  allow: AllowList,
  resolve: Resolver = systemResolver,
): Promise<UrlVerdict> {
  const shape = urlProblem(url, allow);
  if ("reason" in shape) return { ok: false, reason: shape.reason };
  if (shape.host === null) return { ok: true };
  let addresses: ReadonlyArray<{ address: string }>;
  try {
    addresses = await resolve(shape.host);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException | undefined)?.code;
    return { ok: false, reason: `points at ${shape.host}, which does not resolve${code ? ` (${code})` : ""}` };
  }
  const problem = addressesProblem(shape.host, addresses, allow);
  return problem === null ? { ok: true } : { ok: false, reason: problem };
}

/** A delivery refused before or while connecting: "refused: webhook URL <reason>". */
export class EgressRefusedError extends Error {
  constructor(reason: string) {
    super(`refused: webhook URL ${reason}`);
    this.name = "EgressRefusedError";
  }
}

/**
 * The `lookup` for net/tls.connect: resolves the name with `resolve` and
 * fails with EgressRefusedError when any address is blocked (unless the name
 * is allowed by name). Answers in both shapes Node asks for: an array with
 * `options.all`, otherwise (err, address, family).
 */
export function guardedLookup(allow: AllowList, resolve: Resolver = systemResolver): LookupFunction {
  return (hostname, options, callback) => {
    void (async () => {
      let addresses: ReadonlyArray<{ address: string; family: number }>;
      try {
        addresses = await resolve(hostname);
      } catch (e) {
        callback(e as NodeJS.ErrnoException, "", 0);
        return;
      }
      if (!allowedName(hostname, allow)) {
        const problem = addressesProblem(hostname, addresses, allow);
        if (problem !== null) {
          callback(Object.assign(new EgressRefusedError(problem), { code: "EKEEPWATCHREFUSED" }), "", 0);
          return;
        }
      }
      const wanted = options.family === 4 || options.family === 6 ? options.family : 0;
      const usable = wanted === 0 ? addresses : addresses.filter((a) => a.family === wanted);
      if (options.all) {
        callback(
          null,
          usable.map((a) => ({ address: a.address, family: a.family })),
        );
        return;
      }
      const first = usable[0];
      if (!first) {
        callback(Object.assign(new Error(`${hostname} has no IPv${wanted} address`), { code: "ENOTFOUND" }), "", 0);
        return;
      }
      callback(null, first.address, first.family);
    })();
  };
}

export type GuardedFetch = (url: string, init?: RequestInit) => Promise<Response>;

export interface Egress {
  /** fetch through the guard: redirects are never followed (a 3xx comes back as it is). */
  fetch: GuardedFetch;
  /** Closes the connections kept alive. */
  close(): Promise<void>;
}

/**
 * A fetch that can only reach allowed destinations: the URL is checked
 * before the request (scheme, credentials, a literal IP), a name is checked
 * again at connect time by the Agent's lookup, and `redirect` is always
 * "manual". A refused destination rejects with EgressRefusedError.
 */
export function createEgress({ allow, lookup }: { allow: AllowList; lookup?: Resolver }): Egress {
  const agent = new Agent({ connect: { lookup: guardedLookup(allow, lookup ?? systemResolver) } });
  const guarded: GuardedFetch = async (url, init) => {
    const shape = urlProblem(url, allow);
    if ("reason" in shape) throw new EgressRefusedError(shape.reason);
    try {
      const res = await undiciFetch(url, {
        ...(init as Parameters<typeof undiciFetch>[1]),
        redirect: "manual",
        dispatcher: agent,
      });
      return res as unknown as Response;
    } catch (e) {
      // undici reports a failed connect as "fetch failed" with the lookup's error as the cause.
      const cause = (e as { cause?: unknown }).cause;
      if (cause instanceof EgressRefusedError) throw cause;
      throw e;
    }
  };
  return { fetch: guarded, close: () => agent.close() };
}

/**
 * For connections that are not HTTP (SMTP): the address to connect to for a
 * host name or literal, checked like webhook destinations (refused with
 * EgressRefusedError when blocked and not allowed).
 */
export async function allowedAddress(
  host: string,
  allow: AllowList,
  resolve: Resolver = systemResolver,
): Promise<string> {
  const literal = parseLiteral(host);
  if (literal) {
    const address = stripBrackets(host);
    const problem = blockedAddress(address, allow);
    if (problem !== null) throw new EgressRefusedError(`host ${problem}`);
    return address;
  }
  const addresses = await resolve(host);
  if (!allowedName(host, allow)) {
    const problem = addressesProblem(host, addresses, allow);
    if (problem !== null) throw new EgressRefusedError(problem);
  }
  const first = addresses[0];
  if (!first) throw Object.assign(new Error(`${host} does not resolve`), { code: "ENOTFOUND" });
  return first.address;
}

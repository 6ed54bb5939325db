import type { LookupAddress } from "node:dns";
import { describe, expect, it } from "vitest";
import {
  blockedAddress,
  checkWebhookUrl,
  EgressRefusedError,
  EMPTY_ALLOW_LIST,
  guardedLookup,
  parseAllowList,
  type Resolver,
} from "./egress";

const none = EMPTY_ALLOW_LIST;
/** A resolver that answers from a table and fails the test if asked anything else. */
const table =
  (answers: Record<string, string[]>): Resolver =>
  async (host) => {
    const list = answers[host];
    if (!list) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" });
    return list.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
  };
const noDns: Resolver = async (host) => {
  throw new Error(`unexpected lookup of ${host}`);
};

describe("blockedAddress", () => {
  it.each([
    ["127.0.0.1", "loopback"],
    ["127.255.255.254", "loopback"],
    ["::1", "loopback"],
    ["::ffff:127.0.0.1", "IPv4-mapped address of 127.0.0.1, a loopback"],
    ["[::ffff:7f00:1]", "IPv4-mapped address of 127.0.0.1, a loopback"],
    ["169.254.169.254", "link-local"],
    ["10.0.0.1", "private"],
    ["172.16.0.1", "private"],
    ["192.168.1.1", "private"],
    ["100.64.0.1", "carrier-grade NAT"],
    ["0.0.0.0", "unspecified"],
    ["::", "unspecified"],
    ["224.0.0.1", "multicast"],
    ["ff02::1", "multicast"],
    ["fe80::1", "link-local"],
    ["fc00::1", "unique-local"],
    ["255.255.255.255", "broadcast"],
    ["240.0.0.1", "reserved"],
    ["::ffff:10.1.2.3", "IPv4-mapped address of 10.1.2.3, a private"],
    ["::7f00:1", "IPv4-compatible"],
    ["64:ff9b::7f00:1", "NAT64"],
  ])("refuses %s (%s)", (ip, words) => {
    const reason = blockedAddress(ip, none);
    expect(reason).toContain(ip);
    expect(reason).toContain(words);
  });

  it.each(["1.1.1.1", "2606:4700:4700::1111", "::ffff:1.1.1.1", "[2606:4700:4700::1111]"])("allows %s", (ip) => {
    expect(blockedAddress(ip, none)).toBeNull();
  });

  it("refuses what is not an IP address", () => {
    expect(blockedAddress("example.com", none)).toBe("example.com is not an IP address");
  });

  it("allows addresses listed by IP or CIDR, and only those", () => {
    const allow = parseAllowList("127.0.0.1, 10.0.0.0/8 ,fd00::/8");
    expect(blockedAddress("127.0.0.1", allow)).toBeNull();
    expect(blockedAddress("::ffff:127.0.0.1", allow)).toBeNull();
    expect(blockedAddress("127.0.0.2", allow)).toContain("loopback");
    expect(blockedAddress("10.200.3.4", allow)).toBeNull();
    expect(blockedAddress("11.0.0.1", allow)).toBeNull(); // public anyway
    expect(blockedAddress("192.168.1.1", allow)).toContain("private");
    expect(blockedAddress("fd12:3456::1", allow)).toBeNull();
    expect(blockedAddress("fc00::1", allow)).toContain("unique-local");
    expect(blockedAddress("::1", allow)).toContain("loopback");
  });

  it("allows an IPv4 range listed as IPv4-mapped IPv6", () => {
    const allow = parseAllowList("::ffff:192.168.0.0/112");
    expect(blockedAddress("192.168.7.7", allow)).toBeNull();
    expect(blockedAddress("192.169.0.1", allow)).toBeNull(); // public
    expect(blockedAddress("10.0.0.1", allow)).toContain("private");
  });
});

describe("parseAllowList", () => {
  it("reads host names, addresses and CIDR ranges; empty entries are ignored", () => {
    const allow = parseAllowList(" Hooks.Internal. ,127.0.0.1,, 10.0.0.0/8, fd00::/8, [::1] ,");
    expect([...allow.names]).toEqual(["hooks.internal"]);
    expect(allow.ranges.map(([a, bits]) => `${a.toString()}/${bits}`)).toEqual([
      "127.0.0.1/32",
      "10.0.0.0/8",
      "fd00::/8",
      "::1/128",
    ]);
    expect(parseAllowList("")).toEqual({ names: new Set(), ranges: [] });
  });

  it.each([
    ["10.0.0.0/33", "CIDR range"],
    ["10.0.0.0/", "CIDR range"],
    ["fd00::/129", "CIDR range"],
    ["nonsense/8", "a host name, an IP address or a CIDR range"],
    ["10.0.0", "a host name, an IP address or a CIDR range"],
    ["300.1.1.1", "a host name, an IP address or a CIDR range"],
    ["http://hooks.internal", "a host name, an IP address or a CIDR range"],
    ["hooks internal", "a host name, an IP address or a CIDR range"],
    ["-bad.example", "a host name, an IP address or a CIDR range"],
  ])("refuses %s, naming it", (entry, words) => {
    expect(() => parseAllowList(`127.0.0.1, ${entry}`)).toThrow(`KEEPWATCH_WEBHOOK_ALLOW: "${entry}" is not`);
    expect(() => parseAllowList(entry)).toThrow(words);
  });
});

describe("checkWebhookUrl", () => {
  it.each([
    ["http://127.0.0.1/x", "points at 127.0.0.1, a loopback address; list it in KEEPWATCH_WEBHOOK_ALLOW"],
    ["http://[::ffff:127.0.0.1]/x", "points at ::ffff:7f00:1, an IPv4-mapped address of 127.0.0.1, a loopback"],
    ["http://169.254.169.254/latest/meta-data/", "points at 169.254.169.254, a link-local address"],
    ["http://0x7f.1/x", "points at 127.0.0.1, a loopback address"], // the URL parser's spelling of 127.0.0.1
    ["http://[fd00::1]:8080/x", "points at fd00::1, an IPv6 unique-local"],
    ["ftp://example.com/hook", "must be an http:// or https:// URL, not ftp://"],
    ["https://user:pw@example.com/hook", "must not carry credentials"],
    ["not a url", "is not a URL"],
  ])("refuses %s without looking anything up", async (url, reason) => {
    const verdict = await checkWebhookUrl(url, none, noDns);
    expect(verdict).toEqual({ ok: false, reason: expect.stringContaining(reason) });
  });

  it("resolves a name and accepts it when every address is public", async () => {
    const resolve = table({ "hooks.example": ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"] });
    expect(await checkWebhookUrl("https://hooks.example/kw?token=1", none, resolve)).toEqual({ ok: true });
  });

  it("refuses a name when ANY of its addresses is blocked, naming the address", async () => {
    const resolve = table({ "mixed.example": ["93.184.215.14", "10.1.2.3"] });
    expect(await checkWebhookUrl("https://mixed.example/hook", none, resolve)).toEqual({
      ok: false,
      reason:
        "points at mixed.example, which resolves to 10.1.2.3, a private (RFC 1918) address; " +
        "list it in KEEPWATCH_WEBHOOK_ALLOW to allow it",
    });
  });

  it("refuses a name that does not resolve", async () => {
    expect(await checkWebhookUrl("https://nowhere.example/hook", none, table({}))).toEqual({
      ok: false,
      reason: "points at nowhere.example, which does not resolve (ENOTFOUND)",
    });
    expect(await checkWebhookUrl("https://empty.example/hook", none, table({ "empty.example": [] }))).toEqual({
      ok: false,
      reason: "points at empty.example, which does not resolve",
    });
  });

  it("accepts what the allow list names: a host name without resolving it, an address, a range", async () => {
    const allow = parseAllowList("hooks.internal, 127.0.0.1, 10.0.0.0/8");
    expect(await checkWebhookUrl("http://HOOKS.internal:8080/x", allow, noDns)).toEqual({ ok: true });
    expect(await checkWebhookUrl("http://127.0.0.1:9/x", allow, noDns)).toEqual({ ok: true });
    expect(await checkWebhookUrl("http://db.lan/x", allow, table({ "db.lan": ["10.9.9.9"] }))).toEqual({ ok: true });
    expect(await checkWebhookUrl("http://other.lan/x", allow, table({ "other.lan": ["192.168.0.2"] }))).toMatchObject({
      ok: false,
    });
  });
});

describe("the connect-time lookup", () => {
  type Answer = { err: NodeJS.ErrnoException | null; address: string | LookupAddress[]; family?: number };
  const ask = (allow: ReturnType<typeof parseAllowList>, resolve: Resolver, host: string, options: object) =>
    new Promise<Answer>((done) =>
      guardedLookup(allow, resolve)(host, options, (err, address, family) => done({ err, address, family })),
    );
  const resolve = table({ "public.example": ["93.184.215.14", "2606:2800:21f::1"], "rebind.example": ["127.0.0.1"] });

  it("answers an array when Node asks for all addresses", async () => {
    expect(await ask(none, resolve, "public.example", { all: true })).toEqual({
      err: null,
      address: [
        { address: "93.184.215.14", family: 4 },
        { address: "2606:2800:21f::1", family: 6 },
      ],
      family: undefined,
    });
  });

  it("answers (err, address, family) otherwise, honouring the family asked for", async () => {
    expect(await ask(none, resolve, "public.example", {})).toEqual({
      err: null,
      address: "93.184.215.14",
      family: 4,
    });
    expect(await ask(none, resolve, "public.example", { family: 6 })).toEqual({
      err: null,
      address: "2606:2800:21f::1",
      family: 6,
    });
  });

  it("fails with EgressRefusedError in both shapes when an address is blocked", async () => {
    for (const options of [{ all: true }, {}]) {
      const { err } = await ask(none, resolve, "rebind.example", options);
      expect(err).toBeInstanceOf(EgressRefusedError);
      expect(err?.message).toBe(
        "refused: webhook URL points at rebind.example, which resolves to 127.0.0.1, a loopback address; " +
          "list it in KEEPWATCH_WEBHOOK_ALLOW to allow it",
      );
    }
  });

  it("lets through a blocked address the allow list names, by address or by host name", async () => {
    expect((await ask(parseAllowList("127.0.0.1"), resolve, "rebind.example", {})).address).toBe("127.0.0.1");
    expect((await ask(parseAllowList("rebind.example"), resolve, "rebind.example", {})).address).toBe("127.0.0.1");
  });

  it("passes a resolver's failure on as it is", async () => {
    const { err } = await ask(none, resolve, "nowhere.example", { all: true });
    expect(err?.code).toBe("ENOTFOUND");
    expect(err).not.toBeInstanceOf(EgressRefusedError);
  });
});

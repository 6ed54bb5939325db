import { describe, expect, it } from "vitest";
// How Next finds the nonce for its own scripts in the request's policy.
import { getScriptNonceFromHeader } from "next/dist/server/app-render/get-script-nonce-from-header";
import { contentSecurityPolicy, createNonce, isHttps, securityHeaders } from "./security-headers";

const directives = (csp: string) =>
  new Map(
    csp.split(";").map((d) => {
      const [name, ...values] = d.trim().split(/\s+/);
      return [name, values] as const;
    }),
  );

describe("contentSecurityPolicy", () => {
  it("is the production policy, exactly", () => {
    expect(contentSecurityPolicy({ nonce: "bm9uY2U=", dev: false })).toBe(
      "default-src 'self'; script-src 'self' 'nonce-bm9uY2U=' 'strict-dynamic'; style-src 'self' 'unsafe-inline'; " +
        "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; " +
        "frame-ancestors 'none'",
    );
  });

  it("allows eval only in development", () => {
    expect(contentSecurityPolicy({ nonce: "n", dev: false })).not.toContain("unsafe-eval");
    const dev = directives(contentSecurityPolicy({ nonce: "n", dev: true }));
    expect(dev.get("script-src")).toEqual(["'self'", "'nonce-n'", "'strict-dynamic'", "'unsafe-eval'"]);
    // Nothing else changes.
    expect(dev.get("style-src")).toEqual(["'self'", "'unsafe-inline'"]);
    expect(dev.get("frame-ancestors")).toEqual(["'none'"]);
  });

  it("keeps the nonce out of style-src, where it would disable 'unsafe-inline'", () => {
    const csp = directives(contentSecurityPolicy({ nonce: "abc", dev: false }));
    expect(csp.get("style-src")?.some((v) => v.startsWith("'nonce-"))).toBe(false);
  });

  it("carries a nonce Next reads back for its scripts", () => {
    const nonce = createNonce();
    expect(getScriptNonceFromHeader(contentSecurityPolicy({ nonce, dev: false }))).toBe(nonce);
    expect(getScriptNonceFromHeader(contentSecurityPolicy({ nonce, dev: true }))).toBe(nonce);
  });
});

describe("createNonce", () => {
  it("is 128 random bits in base64, new every time", () => {
    const nonces = new Set(Array.from({ length: 100 }, createNonce));
    expect(nonces.size).toBe(100);
    for (const n of nonces) {
      expect(n).toMatch(/^[A-Za-z0-9+/]{22}==$/);
      expect(Buffer.from(n, "base64")).toHaveLength(16);
    }
  });
});

describe("isHttps", () => {
  it("trusts the first X-Forwarded-Proto entry", () => {
    expect(isHttps({ forwardedProto: "https", publicUrl: undefined })).toBe(true);
    expect(isHttps({ forwardedProto: "HTTPS", publicUrl: undefined })).toBe(true);
    expect(isHttps({ forwardedProto: "https, http", publicUrl: undefined })).toBe(true);
    expect(isHttps({ forwardedProto: "http, https", publicUrl: undefined })).toBe(false);
    expect(isHttps({ forwardedProto: "http", publicUrl: undefined })).toBe(false);
    expect(isHttps({ forwardedProto: null, publicUrl: undefined })).toBe(false);
    expect(isHttps({ forwardedProto: "", publicUrl: "" })).toBe(false);
  });

  it("or an https public URL", () => {
    expect(isHttps({ forwardedProto: null, publicUrl: "https://keepwatch.example" })).toBe(true);
    expect(isHttps({ forwardedProto: "http", publicUrl: "https://keepwatch.example/" })).toBe(true);
    expect(isHttps({ forwardedProto: null, publicUrl: "http://keepwatch.example" })).toBe(false);
  });
});

describe("securityHeaders", () => {
  it("sets the policy and the legacy headers, without HSTS over http", () => {
    const headers = securityHeaders({ nonce: "n", dev: false, https: false });
    expect(headers).toEqual({
      "Content-Security-Policy": contentSecurityPolicy({ nonce: "n", dev: false }),
      "X-Content-Type-Options": "nosniff",
      "Referrer-Policy": "same-origin",
      "X-Frame-Options": "DENY",
    });
  });

  it("adds HSTS over https", () => {
    expect(securityHeaders({ nonce: "n", dev: false, https: true })["Strict-Transport-Security"]).toBe(
      "max-age=31536000",
    );
  });
});

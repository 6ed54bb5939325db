import { describe, expect, it } from "vitest";
import { checkCsrf, ownOrigins } from "./csrf";

const req = (method: string, headers: Record<string, string>, url = "http://127.0.0.1:3000/api/alert-rules") =>
  new Request(url, { method, headers });
const JSON_TYPE = { "content-type": "application/json" };

describe("CSRF rules for cookie-authenticated changes", () => {
  it("needs JSON for a body and keepwatch's own Origin", () => {
    expect(checkCsrf(req("POST", { ...JSON_TYPE, origin: "http://127.0.0.1:3000" }), undefined)).toEqual({ ok: true });
    expect(
      checkCsrf(req("POST", { "content-type": "text/plain", origin: "http://127.0.0.1:3000" }), undefined),
    ).toMatchObject({ status: 415 });
    expect(checkCsrf(req("POST", { "content-type": "application/x-www-form-urlencoded" }), undefined)).toMatchObject({
      status: 415,
    });
    expect(checkCsrf(req("PUT", { ...JSON_TYPE, origin: "http://evil.example" }), undefined)).toMatchObject({
      status: 403,
    });
    expect(checkCsrf(req("POST", JSON_TYPE), undefined)).toMatchObject({ status: 403 });
    expect(checkCsrf(req("POST", { ...JSON_TYPE, origin: "null" }), undefined)).toMatchObject({ status: 403 });
    // A different port is another origin.
    expect(checkCsrf(req("POST", { ...JSON_TYPE, origin: "http://127.0.0.1:4000" }), undefined)).toMatchObject({
      status: 403,
    });
  });

  it("takes the Referer when there is no Origin, and DELETE needs no body type", () => {
    expect(
      checkCsrf(req("POST", { ...JSON_TYPE, referer: "http://127.0.0.1:3000/settings/alerts" }), undefined),
    ).toEqual({ ok: true });
    expect(checkCsrf(req("DELETE", { origin: "http://127.0.0.1:3000" }), undefined)).toEqual({ ok: true });
    expect(checkCsrf(req("DELETE", { origin: "http://evil.example" }), undefined)).toMatchObject({ status: 403 });
  });

  it("behind a proxy: the public URL's origin only, or the forwarded host", () => {
    const behind = req("POST", { ...JSON_TYPE, origin: "https://kw.example.com" }, "http://10.0.0.5:3000/api/x");
    expect(checkCsrf(behind, "https://kw.example.com/")).toEqual({ ok: true });
    expect(
      checkCsrf(req("POST", { ...JSON_TYPE, origin: "http://127.0.0.1:3000" }), "https://kw.example.com"),
    ).toMatchObject({ status: 403 });
    const forwarded = req(
      "POST",
      { host: "10.0.0.5:3000", "x-forwarded-host": "kw.example.com", "x-forwarded-proto": "https" },
      "http://10.0.0.5:3000/x",
    );
    expect(ownOrigins(forwarded, undefined)).toContain("https://kw.example.com");
  });
});

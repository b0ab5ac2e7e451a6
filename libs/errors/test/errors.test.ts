import { describe, expect, it } from "vitest";
import { Code, ConnectError } from "@connectrpc/connect";
import { BadRequestSchema, PreconditionFailureSchema, ResourceInfoSchema } from "@fti/proto/google/rpc/error_details_pb";
import { AbortedError, FailedPreconditionError, InvalidArgumentError, NotFoundError, UnavailableError, toConnectError } from "../src/index.js";

describe("toConnectError", () => {
  it("keeps domain codes and details", () => {
    const bad = toConnectError(new InvalidArgumentError([{ field: "feature_group.ttl", description: "must be positive" }, { field: "name", description: "too long" }]));
    expect(bad.code).toBe(Code.InvalidArgument);
    expect(bad.findDetails(BadRequestSchema)[0]?.fieldViolations.map((v) => v.field)).toEqual(["feature_group.ttl", "name"]);
    const missing = toConnectError(new NotFoundError("feature view", "projects/p/featureViews/v/versions/3"));
    expect(missing.code).toBe(Code.NotFound);
    expect(missing.findDetails(ResourceInfoSchema)[0]?.resourceName).toBe("projects/p/featureViews/v/versions/3");
    const pre = toConnectError(new FailedPreconditionError("still referenced", [{ type: "REFERENCED", subject: "projects/p/featureViews/v", description: "uses it" }]));
    expect(pre.findDetails(PreconditionFailureSchema)[0]?.violations[0]?.subject).toBe("projects/p/featureViews/v");
    expect(toConnectError(new AbortedError("stale etag")).code).toBe(Code.Aborted);
    expect(toConnectError(new UnavailableError("down")).code).toBe(Code.Unavailable);
  });

  it("maps driver connection failures to UNAVAILABLE and hides their text", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 10.0.0.7:5432"), { code: "ECONNREFUSED" });
    const err = toConnectError(refused);
    expect(err.code).toBe(Code.Unavailable);
    expect(err.message).not.toContain("10.0.0.7");
  });

  it("turns anything else into INTERNAL with a generic message and logs the real one", () => {
    const logged: unknown[] = [];
    const err = toConnectError(new Error('syntax error at or near "SELEC"'), { error: (m, f) => logged.push({ m, f }) });
    expect(err.code).toBe(Code.Internal);
    expect(err.rawMessage).toBe("internal error");
    expect(JSON.stringify(logged)).toContain("SELEC");
  });

  it("passes ConnectErrors through", () => {
    const original = new ConnectError("nope", Code.PermissionDenied);
    expect(toConnectError(original)).toBe(original);
  });
});

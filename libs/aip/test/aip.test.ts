import { describe, expect, it } from "vitest";
import { AbortedError, InvalidArgumentError } from "@fti/errors";
import { applyMask, checkEtag, decodePageToken, encodePageToken, formatEtag, maskPaths, namePattern, pageSize, paginate, parseFilter, parseName, requestFingerprint } from "../src/index.js";

const fieldOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidArgumentError);
    return (err as InvalidArgumentError).violations[0]!.field;
  }
  throw new Error("expected INVALID_ARGUMENT");
};

describe("resource names", () => {
  const fg = namePattern("projects/{project}/featureGroups/{feature_group}/versions/{version}");

  it("parse and format round trip, with latest allowed for versions", () => {
    expect(parseName(fg, "projects/fraud/featureGroups/tx/versions/2", "name", ["version"])).toEqual({ project: "fraud", feature_group: "tx", version: "2" });
    expect(parseName(fg, "projects/fraud/featureGroups/tx/versions/latest", "name", ["version"]).version).toBe("latest");
    expect(fg.format({ project: "a", feature_group: "b", version: 3 })).toBe("projects/a/featureGroups/b/versions/3");
  });

  it("reject bad ids, bad versions and other shapes, naming the field", () => {
    expect(fieldOf(() => parseName(fg, "projects/Fraud/featureGroups/tx/versions/1", "feature_group.name", ["version"]))).toBe("feature_group.name");
    expect(() => parseName(fg, "projects/fraud/featureGroups/tx/versions/0", "name", ["version"])).toThrow(/positive integer/);
    expect(() => parseName(fg, "projects/fraud/featureViews/tx/versions/1", "name", ["version"])).toThrow(/does not match/);
    expect(() => parseName(fg, "", "name", ["version"])).toThrow(/required/);
    expect(() => parseName(fg, `projects/${"a".repeat(64)}/featureGroups/tx/versions/1`, "name", ["version"])).toThrow(/longer than 63/);
  });
});

describe("page tokens", () => {
  it("clamp sizes and reject negative ones", () => {
    expect(pageSize(0)).toBe(50);
    expect(pageSize(5000)).toBe(1000);
    expect(fieldOf(() => pageSize(-1))).toBe("page_size");
  });

  it("carry the last sort key and refuse a token from another request", () => {
    const f = requestFingerprint(["projects/a", ""]);
    const { items, nextPageToken } = paginate([1, 2, 3], 2, (n) => [n], f);
    expect(items).toEqual([1, 2]);
    expect(decodePageToken(nextPageToken, f)).toEqual([2]);
    expect(paginate([1, 2], 2, (n) => [n], f).nextPageToken).toBe("");
    expect(fieldOf(() => decodePageToken(nextPageToken, requestFingerprint(["projects/b", ""])))).toBe("page_token");
    expect(fieldOf(() => decodePageToken("garbage!", f))).toBe("page_token");
    expect(fieldOf(() => decodePageToken(encodePageToken([{}] as never, f), f))).toBe("page_token");
  });
});

describe("filters", () => {
  const allowed = ["owner", "tags.*", "online_enabled"];

  it("parse conjunctions of field = \"value\" with escapes", () => {
    expect(parseFilter("", allowed)).toEqual([]);
    expect(parseFilter(' owner = "risk team" AND tags.tier="gold"  AND tags.note = "say \\"hi\\" \\\\" ', allowed)).toEqual([
      { field: "owner", value: "risk team" },
      { field: "tags.tier", value: "gold" },
      { field: "tags.note", value: 'say "hi" \\' },
    ]);
  });

  it("reject unknown fields and bad syntax as INVALID_ARGUMENT on filter", () => {
    expect(() => parseFilter('color = "red"', allowed)).toThrow(/unknown filter field "color"/);
    expect(fieldOf(() => parseFilter('owner = "a" OR owner = "b"', allowed))).toBe("filter");
    expect(() => parseFilter("owner = risk", allowed)).toThrow(/double-quoted/);
    expect(() => parseFilter('owner = "open', allowed)).toThrow(/closing quote/);
    expect(() => parseFilter('owner "a"', allowed)).toThrow(/"="/);
    expect(() => parseFilter('tags. = "a"', allowed)).toThrow();
  });
});

describe("update masks", () => {
  it("accept only updatable paths and copy exactly those", () => {
    expect(maskPaths(["description", "online_enabled"], ["description", "online_enabled", "tags"])).toEqual(["description", "online_enabled"]);
    expect(maskPaths(["*"], ["description", "tags"])).toEqual(["description", "tags"]);
    expect(fieldOf(() => maskPaths([], ["description"]))).toBe("update_mask");
    expect(() => maskPaths(["name"], ["description"])).toThrow(/"name" cannot be updated/);
    const current = { description: "old", onlineEnabled: false, owner: "a" };
    expect(applyMask(current, { description: "new", onlineEnabled: true, owner: "b" }, ["online_enabled"])).toEqual({ description: "old", onlineEnabled: true, owner: "a" });
  });
});

describe("etags", () => {
  it("are ABORTED when stale and ignored when empty", () => {
    const etag = formatEtag(42n);
    expect(() => checkEtag(etag, etag, "x")).not.toThrow();
    expect(() => checkEtag("", etag, "x")).not.toThrow();
    expect(() => checkEtag(formatEtag(41n), etag, "x")).toThrow(AbortedError);
  });
});

// SearchFeatures: every query word must appear (case-insensitive) in a
// feature's name, description, or a tag key or value. Ranked by where the
// words matched (name over description over tag), then by feature group name
// and column position, with keyset page tokens over that order.
import { fromBinary } from "@bufbuild/protobuf";
import { decodePageToken, pageSize, paginate, parseName, requestFingerprint, type CursorValue } from "@fti/aip";
import { InvalidArgumentError } from "@fti/errors";
import type { Feature } from "@fti/proto/fti/common/v1/types_pb";
import { FeatureGroupSchema as FeatureGroupDesc } from "@fti/proto/fti/registry/v1/feature_group_pb";
import { MatchedField, type FeatureMatch } from "@fti/proto/fti/registry/v1/registry_pb";
import { names } from "./names.js";
import { filterColumns, filterConditions, type RegistryContext } from "./resources.js";
import { Params, listResources } from "./store.js";

interface Scored {
  match: FeatureMatch;
  score: number;
  key: CursorValue[];
}

/** Sort key: higher score first, then feature group (by id, version) and column position. */
const sortKey = (score: number, id: string, version: number, position: number): CursorValue[] => [-score, id, version, position];

function compareKeys(a: readonly CursorValue[], b: readonly CursorValue[]): number {
  for (let i = 0; i < a.length; i++) {
    if (a[i]! < b[i]!) return -1;
    if (a[i]! > b[i]!) return 1;
  }
  return 0;
}

function matchFeature(feature: Feature, words: string[]): { fields: MatchedField[]; score: number } | undefined {
  const name = feature.name.toLowerCase();
  const description = feature.description.toLowerCase();
  const tags = Object.entries(feature.tags).flatMap(([k, v]) => [k.toLowerCase(), v.toLowerCase()]);
  const fields = new Set<MatchedField>();
  let score = 0;
  for (const word of words) {
    let hit = false;
    if (name.includes(word)) {
      fields.add(MatchedField.NAME);
      score += name === word ? 4 : 3;
      hit = true;
    }
    if (description.includes(word)) {
      fields.add(MatchedField.DESCRIPTION);
      score += 2;
      hit = true;
    }
    if (tags.some((t) => t.includes(word))) {
      fields.add(MatchedField.TAG);
      score += 1;
      hit = true;
    }
    if (!hit) return undefined;
  }
  return { fields: [...fields].sort(), score };
}

export function searchOperations(ctx: RegistryContext) {
  return {
    async searchFeatures(request: { parent: string; query: string; allVersions: boolean; filter: string; pageSize: number; pageToken: string }): Promise<{ matches: FeatureMatch[]; nextPageToken: string }> {
      parseName(names.project, request.parent, "parent");
      const words = request.query.toLowerCase().split(/\s+/).filter(Boolean);
      if (words.length === 0) throw InvalidArgumentError.field("query", "give at least one word to search for");
      const size = pageSize(request.pageSize);
      const fingerprint = requestFingerprint(["search", request.parent, words, request.allVersions, request.filter]);
      const after = decodePageToken(request.pageToken, fingerprint);
      const params = new Params();
      const where = [`r.project = ${params.add(request.parent)}`, ...filterConditions(request.filter, { owner: filterColumns.owner }, params)];
      // A project's feature groups number in the hundreds: rank them in memory.
      const rows = await listResources(ctx.pool, { kind: "feature_group", where, params, latestOnly: !request.allVersions, order: "id", limit: 100_000 });
      const scored: Scored[] = [];
      for (const row of rows) {
        const group = fromBinary(FeatureGroupDesc, row.body);
        (group.schema?.features ?? []).forEach((feature, position) => {
          const m = matchFeature(feature, words);
          if (!m) return;
          const key = sortKey(m.score, row.id, row.version, position);
          if (after && compareKeys(key, after) <= 0) return;
          scored.push({ match: { featureGroup: row.name, feature, matchedFields: m.fields } as FeatureMatch, score: m.score, key });
        });
      }
      scored.sort((a, b) => compareKeys(a.key, b.key));
      const page = paginate(scored, size, (s) => s.key, fingerprint);
      return { matches: page.items.map((s) => s.match), nextPageToken: page.nextPageToken };
    },
  };
}

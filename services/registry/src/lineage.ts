// The lineage graph around a resource, walked over the dependencies table:
// feature group → feature view → training dataset → model → deployment.
import { InvalidArgumentError, NotFoundError } from "@fti/errors";
import { LineageDirection, type LineageEdge, type LineageNode } from "@fti/proto/fti/registry/v1/registry_pb";
import { resourceKinds, type Kind } from "./names.js";
import { resolveLatest, type RegistryContext } from "./resources.js";
import { edgesAround } from "./store.js";

export function lineageOperations(ctx: RegistryContext) {
  return {
    async getLineage(name: string, direction: LineageDirection, maxDepth: number): Promise<{ nodes: LineageNode[]; edges: LineageEdge[] }> {
      if (name === "") throw InvalidArgumentError.field("name", "is required: any registry resource name");
      if (maxDepth < 0) throw InvalidArgumentError.field("max_depth", "must be 0 (unlimited) or positive");
      const kindGuess: Kind = name.includes("/featureGroups/") ? "feature_group" : name.includes("/featureViews/") ? "feature_view" : "model";
      const start = name.endsWith("/versions/latest") ? await resolveLatest(ctx.pool, kindGuess, name) : name;
      const { rows } = await ctx.pool.query<{ kind: Kind }>("SELECT kind FROM resources WHERE name = $1", [start]);
      if (!rows[0]) throw new NotFoundError("resource", name);

      const nodes = new Map<string, Kind>([[start, rows[0].kind]]);
      const edges = new Map<string, LineageEdge>();
      const walk = async (way: "up" | "down") => {
        let frontier = [start];
        const seen = new Set(frontier);
        for (let depth = 0; frontier.length && (maxDepth === 0 || depth < maxDepth); depth++) {
          const next: string[] = [];
          for (const e of await edgesAround(ctx.pool, frontier, way)) {
            edges.set(`${e.upstream}\n${e.downstream}`, { upstream: e.upstream, downstream: e.downstream } as LineageEdge);
            nodes.set(e.upstream, e.upstreamKind);
            nodes.set(e.downstream, e.downstreamKind);
            const other = way === "up" ? e.upstream : e.downstream;
            if (!seen.has(other)) {
              seen.add(other);
              next.push(other);
            }
          }
          frontier = next;
        }
      };
      const both = direction === LineageDirection.UNSPECIFIED || direction === LineageDirection.BOTH;
      if (both || direction === LineageDirection.UPSTREAM) await walk("up");
      if (both || direction === LineageDirection.DOWNSTREAM) await walk("down");
      return {
        nodes: [...nodes].map(([n, kind]) => ({ name: n, kind: resourceKinds[kind] }) as LineageNode),
        edges: [...edges.values()],
      };
    },
  };
}

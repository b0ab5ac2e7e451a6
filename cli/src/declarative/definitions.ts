// The resources a set of definition files declares, as registry / monitoring
// messages plus the references still to resolve against what is registered.
import type { FeatureGroup } from "@fti/proto/fti/registry/v1/feature_group_pb";
import type { FeatureView } from "@fti/proto/fti/registry/v1/feature_view_pb";
import type { Monitor } from "@fti/proto/fti/monitoring/v1/monitoring_pb";
import type { FeatureType } from "@fti/schema";
import type { Location } from "./source.js";

interface Defined {
  project: string;
  id: string;
  /** Where it is defined (its `name`). */
  at: Location;
}

export interface ProjectDefinition {
  id: string;
  at: Location;
  /** Only the fields a file sets are managed; the others are left alone. */
  description?: string;
  owner?: string;
  tags?: Record<string, string>;
}

export interface FeatureGroupDefinition extends Defined {
  /** The full definition; name and output-only fields unset. */
  featureGroup: FeatureGroup;
  /** Feature types by name, for checking the views that read it (undefined: a type the file got wrong). */
  types: Map<string, FeatureType | undefined>;
}

/** A feature group a view reads: one of the files' groups, or one only in the registry. */
export interface GroupReference {
  group: string;
  /** A pinned version; unset: the version the files define (or the registry's latest). */
  version?: number;
  at: Location;
  /** Where each selected feature is written. */
  featuresAt: Location[];
}

export interface FeatureViewDefinition extends Defined {
  /** root.feature_group and joins[i].selection.feature_group are unset until planned. */
  featureView: FeatureView;
  root: GroupReference;
  joins: GroupReference[];
}

export interface ModelReference {
  model: string;
  /** Unset: the latest version when planned. */
  version?: number;
  at: Location;
}

export interface DeploymentDefinition extends Defined {
  description: string;
  owner: string;
  tags: Record<string, string>;
  routes: (ModelReference & { weight: number })[];
  shadows: (ModelReference & { samplePercent: number })[];
}

export interface MonitorDefinition extends Defined {
  /** The target (feature_view / deployment) is unset until planned. */
  monitor: Monitor;
  target: { kind: "featureView"; id: string; version?: number } | { kind: "deployment"; id: string };
}

export interface Definitions {
  projects: ProjectDefinition[];
  featureGroups: FeatureGroupDefinition[];
  featureViews: FeatureViewDefinition[];
  deployments: DeploymentDefinition[];
  monitors: MonitorDefinition[];
}

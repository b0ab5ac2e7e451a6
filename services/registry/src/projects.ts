// Projects: the tenancy boundary every other resource name lives under.
import { applyMask, assertId, maskPaths, parseName } from "@fti/aip";
import { InvalidArgumentError } from "@fti/errors";
import type { FieldMask } from "@bufbuild/protobuf/wkt";
import { ProjectSchema, type Project } from "@fti/proto/fti/registry/v1/registry_pb";
import { create } from "@bufbuild/protobuf";
import { names } from "./names.js";
import { deleteExisting, filterColumns, insertNew, listPage, load, transact, updateExisting, type ListRequest, type RegistryContext, type ResourceType } from "./resources.js";
import { resourcesOfProject } from "./store.js";
import { tagViolations } from "./validation.js";

export const projectType: ResourceType<Project> = { kind: "project", schema: ProjectSchema, owner: (p) => p.owner };

export function projectOperations(ctx: RegistryContext) {
  return {
    async createProject(projectId: string, project: Project | undefined): Promise<Project> {
      assertId(projectId, "project_id");
      const p = create(ProjectSchema, { description: project?.description, owner: project?.owner, tags: project?.tags });
      const violations = tagViolations(p.tags, "project.tags");
      if (violations.length) throw new InvalidArgumentError(violations);
      const name = names.project.format({ project: projectId });
      return transact(ctx, (db) => insertNew(ctx, db, projectType, p, { name, project: null, collection: name, id: projectId, version: 0 }));
    },

    async getProject(name: string): Promise<Project> {
      parseName(names.project, name, "name");
      return load(ctx.pool, projectType, name);
    },

    async listProjects(request: ListRequest): Promise<{ items: Project[]; nextPageToken: string }> {
      return listPage(ctx, projectType, request, { where: () => [], filterColumns: { owner: filterColumns.owner }, order: "id", fingerprint: [] });
    },

    async updateProject(project: Project | undefined, mask: FieldMask | undefined): Promise<Project> {
      if (!project) throw InvalidArgumentError.field("project", "is required");
      parseName(names.project, project.name, "project.name");
      const paths = maskPaths(mask?.paths ?? [], ["description", "owner", "tags"]);
      const violations = tagViolations(project.tags, "project.tags");
      if (violations.length) throw new InvalidArgumentError(violations);
      return updateExisting(ctx, projectType, project.name, project.etag, (current) => ({ next: applyMask(current, project, paths), changedFields: paths }));
    },

    async deleteProject(name: string, etag: string): Promise<void> {
      parseName(names.project, name, "name");
      await deleteExisting(ctx, projectType, name, etag, { dependents: (db) => resourcesOfProject(db, name) });
    },
  };
}

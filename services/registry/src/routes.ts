// RegistryService handlers: map requests to the registry's operations and
// results to responses; nothing else.
import type { ServiceImpl } from "@connectrpc/connect";
import type { RegistryService } from "@fti/proto/fti/registry/v1/registry_pb";
import type { Registry } from "./registry.js";

export default function routes(registry: Registry): ServiceImpl<typeof RegistryService> {
  return {
    createProject: async (req) => ({ project: await registry.createProject(req.projectId, req.project) }),
    getProject: async (req) => ({ project: await registry.getProject(req.name) }),
    listProjects: async (req) => {
      const page = await registry.listProjects(req);
      return { projects: page.items, nextPageToken: page.nextPageToken };
    },
    updateProject: async (req) => ({ project: await registry.updateProject(req.project, req.updateMask) }),
    deleteProject: async (req) => {
      await registry.deleteProject(req.name, req.etag);
      return {};
    },

    createFeatureGroup: async (req) => ({ featureGroup: await registry.createFeatureGroup(req.parent, req.featureGroupId, req.featureGroup) }),
    createFeatureGroupVersion: async (req) => ({ featureGroup: await registry.createFeatureGroupVersion(req.parent, req.featureGroup) }),
    getFeatureGroup: async (req) => ({ featureGroup: await registry.getFeatureGroup(req.name) }),
    listFeatureGroups: async (req) => {
      const page = await registry.listFeatureGroups(req);
      return { featureGroups: page.items, nextPageToken: page.nextPageToken };
    },
    updateFeatureGroup: async (req) => ({ featureGroup: await registry.updateFeatureGroup(req.featureGroup, req.updateMask) }),
    deleteFeatureGroup: async (req) => {
      await registry.deleteFeatureGroup(req.name, req.etag);
      return {};
    },

    createFeatureView: async (req) => ({ featureView: await registry.createFeatureView(req.parent, req.featureViewId, req.featureView) }),
    createFeatureViewVersion: async (req) => ({ featureView: await registry.createFeatureViewVersion(req.parent, req.featureView) }),
    getFeatureView: async (req) => ({ featureView: await registry.getFeatureView(req.name) }),
    listFeatureViews: async (req) => {
      const page = await registry.listFeatureViews(req);
      return { featureViews: page.items, nextPageToken: page.nextPageToken };
    },
    updateFeatureView: async (req) => ({ featureView: await registry.updateFeatureView(req.featureView, req.updateMask) }),
    deleteFeatureView: async (req) => {
      await registry.deleteFeatureView(req.name, req.etag);
      return {};
    },

    createTrainingDataset: async (req) => ({ trainingDataset: await registry.createTrainingDataset(req.parent, req.trainingDataset) }),
    getTrainingDataset: async (req) => ({ trainingDataset: await registry.getTrainingDataset(req.name) }),
    listTrainingDatasets: async (req) => {
      const page = await registry.listTrainingDatasets(req);
      return { trainingDatasets: page.items, nextPageToken: page.nextPageToken };
    },
    updateTrainingDataset: async (req) => ({ trainingDataset: await registry.updateTrainingDataset(req.trainingDataset, req.updateMask) }),
    deleteTrainingDataset: async (req) => {
      await registry.deleteTrainingDataset(req.name, req.etag);
      return {};
    },

    createModel: async (req) => ({ model: await registry.createModel(req.parent, req.modelId, req.model) }),
    createModelVersion: async (req) => ({ model: await registry.createModelVersion(req.parent, req.model) }),
    getModel: async (req) => ({ model: await registry.getModel(req.name) }),
    listModels: async (req) => {
      const page = await registry.listModels(req);
      return { models: page.items, nextPageToken: page.nextPageToken };
    },
    updateModel: async (req) => ({ model: await registry.updateModel(req.model, req.updateMask) }),
    deleteModel: async (req) => {
      await registry.deleteModel(req.name, req.etag);
      return {};
    },

    createDeployment: async (req) => ({ deployment: await registry.createDeployment(req.parent, req.deploymentId, req.deployment, req.reason) }),
    getDeployment: async (req) => ({ deployment: await registry.getDeployment(req.name) }),
    listDeployments: async (req) => {
      const page = await registry.listDeployments(req);
      return { deployments: page.items, nextPageToken: page.nextPageToken };
    },
    updateDeployment: async (req) => ({ deployment: await registry.updateDeployment(req.deployment, req.updateMask) }),
    deleteDeployment: async (req) => {
      await registry.deleteDeployment(req.name, req.etag);
      return {};
    },
    upgradeDeployment: async (req) => ({ deployment: await registry.upgradeDeployment(req.name, req.routes, req.shadows, req.reason, req.etag) }),
    rollbackDeployment: async (req) => ({ deployment: await registry.rollbackDeployment(req.name, req.revision, req.reason, req.etag) }),
    listDeploymentRevisions: async (req) => {
      const page = await registry.listDeploymentRevisions(req.parent, req.pageSize, req.pageToken);
      return { revisions: page.items, nextPageToken: page.nextPageToken };
    },

    getLineage: async (req) => registry.getLineage(req.name, req.direction, req.maxDepth),
    searchFeatures: async (req) => registry.searchFeatures(req),
  };
}

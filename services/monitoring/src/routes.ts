// MonitoringService handlers: map requests to the service's operations and
// results to responses; nothing else.
import type { ServiceImpl } from "@connectrpc/connect";
import type { MonitoringService } from "@fti/proto/fti/monitoring/v1/monitoring_pb";
import type { Monitoring } from "./monitoring.js";

export default function routes(monitoring: Monitoring): ServiceImpl<typeof MonitoringService> {
  return {
    createMonitor: async (req) => ({ monitor: await monitoring.createMonitor(req.parent, req.monitorId, req.monitor) }),
    getMonitor: async (req) => ({ monitor: await monitoring.getMonitor(req.name) }),
    listMonitors: async (req) => {
      const page = await monitoring.listMonitors(req);
      return { monitors: page.items, nextPageToken: page.nextPageToken };
    },
    updateMonitor: async (req) => ({ monitor: await monitoring.updateMonitor(req.monitor, req.updateMask) }),
    deleteMonitor: async (req) => {
      await monitoring.deleteMonitor(req.name, req.etag);
      return {};
    },
    getStatistics: async (req) => monitoring.reports.statistics(await monitoring.monitorOf(req.monitor, "monitor"), req),
    getDriftReport: async (req) => monitoring.reports.driftReport(await monitoring.monitorOf(req.monitor, "monitor"), req),
    getModelPerformance: async (req) => monitoring.reports.modelPerformance(await monitoring.monitorOf(req.monitor, "monitor"), req),
    listAlerts: async (req) => {
      const page = await monitoring.listAlerts(req);
      return { alerts: page.items, nextPageToken: page.nextPageToken };
    },
  };
}

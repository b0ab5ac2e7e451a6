// TrainingService handlers: map requests to the operations and results to
// responses; nothing else.
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { TrainingService } from "@fti/proto/fti/training/v1/training_pb";
import type { Jobs } from "./jobs.js";
import type { Schedules } from "./schedules.js";
import type { Triggers } from "./triggers.js";

export default function routes(jobs: Jobs, schedules: Schedules, triggers: Triggers): ServiceImpl<typeof TrainingService> {
  return {
    submitJob: async (req) => ({ job: await jobs.submitJob(req.parent, req.spec, req.requestId) }),
    getJob: async (req) => ({ job: await jobs.getJob(req.name) }),
    listJobs: async (req) => {
      const page = await jobs.listJobs(req);
      // List omits log lines (they are only in GetJob/WatchJob).
      return { jobs: page.items.map((j) => ({ ...j, logLines: [] })), nextPageToken: page.nextPageToken };
    },
    cancelJob: async (req) => ({ job: await jobs.cancelJob(req.name) }),
    watchJob: async function* (req, ctx: HandlerContext) {
      for await (const job of jobs.watchJob(req.name, ctx.signal)) yield { job };
    },

    createSchedule: async (req) => ({ schedule: await schedules.createSchedule(req.parent, req.scheduleId, req.schedule) }),
    getSchedule: async (req) => ({ schedule: await schedules.getSchedule(req.name) }),
    listSchedules: async (req) => {
      const page = await schedules.listSchedules(req);
      return { schedules: page.items, nextPageToken: page.nextPageToken };
    },
    updateSchedule: async (req) => ({ schedule: await schedules.updateSchedule(req.schedule, req.updateMask) }),
    deleteSchedule: async (req) => {
      await schedules.deleteSchedule(req.name, req.etag);
      return {};
    },

    createTrigger: async (req) => ({ trigger: await triggers.createTrigger(req.parent, req.triggerId, req.trigger) }),
    getTrigger: async (req) => ({ trigger: await triggers.getTrigger(req.name) }),
    listTriggers: async (req) => {
      const page = await triggers.listTriggers(req);
      return { triggers: page.items, nextPageToken: page.nextPageToken };
    },
    updateTrigger: async (req) => ({ trigger: await triggers.updateTrigger(req.trigger, req.updateMask) }),
    deleteTrigger: async (req) => {
      await triggers.deleteTrigger(req.name, req.etag);
      return {};
    },
  };
}

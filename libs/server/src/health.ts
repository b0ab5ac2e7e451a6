// grpc.health.v1.Health whose statuses follow the service's dependencies:
// every registered service is SERVING while every dependency probe passes,
// NOT_SERVING as soon as one fails, and NOT_SERVING during shutdown.
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "@fti/proto/grpc/health/v1/health_pb";
import type { Logger } from "@fti/logger";

export { ServingStatus };

/** Something the service cannot work without: Postgres, NATS, a store. */
export interface Dependency {
  name: string;
  /** Resolves when the dependency answers; rejects (or times out) when it does not. */
  check(signal: AbortSignal): Promise<void>;
}

type Listener = (status: ServingStatus) => void;

export class HealthStatus {
  private readonly statuses = new Map<string, ServingStatus>();
  private readonly watchers = new Map<string, Set<Listener>>();
  private failing = new Map<string, string>();

  constructor(services: string[]) {
    // "" is the server as a whole.
    for (const s of ["", ...services]) this.statuses.set(s, ServingStatus.NOT_SERVING);
  }

  get(service: string): ServingStatus | undefined {
    return this.statuses.get(service);
  }

  all(): Map<string, ServingStatus> {
    return new Map(this.statuses);
  }

  /** Dependencies currently failing, with their errors. */
  failures(): Record<string, string> {
    return Object.fromEntries(this.failing);
  }

  setAll(status: ServingStatus): void {
    for (const service of this.statuses.keys()) this.set(service, status);
  }

  set(service: string, status: ServingStatus): void {
    if (this.statuses.get(service) === status) return;
    this.statuses.set(service, status);
    for (const listener of this.watchers.get(service) ?? []) listener(status);
  }

  watch(service: string, listener: Listener): () => void {
    let set = this.watchers.get(service);
    if (!set) this.watchers.set(service, (set = new Set()));
    set.add(listener);
    return () => set!.delete(listener);
  }

  /** Records one round of dependency probes and updates every status. */
  report(failing: Map<string, string>): void {
    this.failing = failing;
    this.setAll(failing.size === 0 ? ServingStatus.SERVING : ServingStatus.NOT_SERVING);
  }
}

/** Probes dependencies on an interval; each probe gets at most `timeoutMs`. */
export function monitorDependencies(health: HealthStatus, dependencies: Dependency[], options: { intervalMs: number; timeoutMs?: number; logger: Logger }) {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const timeoutMs = options.timeoutMs ?? Math.min(options.intervalMs, 2_000);
  let previous = new Set<string>();

  const probeOnce = async () => {
    const failing = new Map<string, string>();
    await Promise.all(
      dependencies.map(async (dep) => {
        const signal = AbortSignal.timeout(timeoutMs);
        try {
          await Promise.race([
            dep.check(signal),
            new Promise((_, reject) => signal.addEventListener("abort", () => reject(new Error(`no answer within ${timeoutMs} ms`)), { once: true })),
          ]);
        } catch (err) {
          failing.set(dep.name, err instanceof Error ? err.message : String(err));
        }
      }),
    );
    if (stopped) return;
    for (const [name, error] of failing) if (!previous.has(name)) options.logger.warn("dependency down", { dependency: name, error });
    for (const name of previous) if (!failing.has(name)) options.logger.info("dependency back", { dependency: name });
    previous = new Set(failing.keys());
    health.report(failing);
  };

  const loop = async () => {
    await probeOnce();
    if (!stopped) timer = setTimeout(loop, options.intervalMs);
  };

  return {
    /** Probes once now (so health is known before listening), then on the interval. */
    async start() {
      await probeOnce();
      if (!stopped) timer = setTimeout(loop, options.intervalMs);
    },
    probeOnce,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}

export function healthService(health: HealthStatus): Partial<ServiceImpl<typeof Health>> {
  return {
    check(req) {
      const status = health.get(req.service);
      if (status === undefined) throw new ConnectError(`unknown service "${req.service}"`, Code.NotFound);
      return { status };
    },
    list() {
      const statuses: Record<string, { status: ServingStatus }> = {};
      for (const [service, status] of health.all()) statuses[service] = { status };
      return { statuses };
    },
    async *watch(req, ctx) {
      // Send the current status, then each change, until the caller goes away.
      const queue: ServingStatus[] = [health.get(req.service) ?? ServingStatus.SERVICE_UNKNOWN];
      let wake: (() => void) | undefined;
      const unwatch = health.watch(req.service, (status) => {
        queue.push(status);
        wake?.();
      });
      const onAbort = () => wake?.();
      ctx.signal.addEventListener("abort", onAbort);
      try {
        while (!ctx.signal.aborted) {
          while (queue.length) yield { status: queue.shift()! };
          await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
        }
      } finally {
        unwatch();
        ctx.signal.removeEventListener("abort", onAbort);
      }
    },
  };
}

/**
 * Process-wide registry of scheduled jobs (the retention-prune nodes'
 * CronJobs) for the health report: a node registers a job when its schedule
 * starts and calls the returned function in its close handler.
 *
 *   const unregister = registerSchedulerJob(node.id, 'retention-prune', () => ({ state, nextRun, lastRun, lastError }));
 *   ...
 *   unregister();                                   // in 'close'
 *
 * lighting-query (health) reads schedulerProbe(): null when no job is
 * registered (reported "not configured"), else the combined state.
 */
import { combineSchedulerStates, type SchedulerJobState, type SchedulerProbeResult } from '../../lib/http/health';

export type { SchedulerJobState };

interface Job {
  name: string;
  state: () => SchedulerJobState;
}

const jobs = new Map<string, Job>();

/** Registers (or replaces) job `id`; returns the function that removes it (idempotent). */
export function registerSchedulerJob(id: string, name: string, state: () => SchedulerJobState): () => void {
  const job: Job = { name, state };
  jobs.set(id, job);
  return () => {
    if (jobs.get(id) === job) jobs.delete(id);
  };
}

/** Each registered job's current state (a job whose state() throws reports stopped with the error). */
export function schedulerJobStates(): Array<SchedulerJobState & { id: string; name: string }> {
  return [...jobs.entries()].map(([id, job]) => {
    try {
      return { id, name: job.name, ...job.state() };
    } catch (err) {
      return { id, name: job.name, state: 'stopped' as const, nextRun: null, lastRun: null, lastError: (err as Error).message };
    }
  });
}

/** The health report's scheduler probe result, or null when nothing is scheduled. */
export function schedulerProbe(): (SchedulerProbeResult & { jobs: number }) | null {
  return combineSchedulerStates(schedulerJobStates());
}

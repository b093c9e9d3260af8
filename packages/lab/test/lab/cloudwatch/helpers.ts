import { LabEventBus, Scheduler, type LabEvent } from '../../../src/lab/kernel';
import { CloudWatchLab } from '../../../src/lab/cloudwatch';

/** 2026-01-01T00:00:00Z: the virtual scheduler's default start, aligned to every period. */
export const T0 = Date.UTC(2026, 0, 1, 0, 0, 0);

export interface Rig {
  readonly scheduler: Scheduler;
  readonly events: LabEventBus;
  readonly cw: CloudWatchLab;
  /** Call an operation as the server would, with the parsed JSON input. */
  call(op: string, input: Record<string, unknown>): Promise<Record<string, unknown>>;
  state(name: string): string | undefined;
  alarmEvents(): LabEvent[];
  /** Advance virtual time to `at` (epoch ms). */
  until(at: number): Promise<void>;
}

export function rig(start = T0): Rig {
  const scheduler = new Scheduler('virtual', start);
  const events = new LabEventBus(scheduler);
  const cw = new CloudWatchLab({ scheduler, events });
  return {
    scheduler,
    events,
    cw,
    call: async (op, input) => (await cw.service.operations[op](input)) as Record<string, unknown>,
    state: (name) => cw.alarmStates([name])[name],
    alarmEvents: () => events.log.map((e) => e.event).filter((e) => e.detailType === 'CloudWatch Alarm State Change'),
    until: async (at) => {
      await scheduler.advance(at - scheduler.now());
    },
  };
}

/** Epoch seconds, as awsJson1_0 carries timestamps. */
export const sec = (ms: number) => ms / 1000;

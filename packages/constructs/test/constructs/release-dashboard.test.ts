import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { GuardedFunction, ProbeStatus, ReleaseWatchdog } from '../../src';
import { dashboardSizeProblems } from '../../src/constructs/release-watchdog';
import { inlineFunction, joinToText, resourcesOfType } from './helpers';

interface Widget { type: string; x: number; y: number; width: number; properties: { title: string; alarms?: string[]; metrics?: unknown[] } }

/** A stack whose watchdog guards the named functions; `dashboard: false` for those listed in `without`. */
function stackOf(names: string[], without: string[] = []) {
  const app = new App();
  const stack = new Stack(app, 'Shop');
  const watchdog = new ReleaseWatchdog(stack, 'Watchdog');
  const guards = names.map(
    (n) =>
      new GuardedFunction(stack, n, {
        watchdog,
        existingFunction: inlineFunction(stack, `${n}Fn`),
        probes: [{ name: 'health', event: {}, expect: { status: ProbeStatus.SUCCESS } }],
        dashboard: !without.includes(n),
      }),
  );
  const template = Template.fromStack(stack);
  const dashboards = resourcesOfType(template, 'AWS::CloudWatch::Dashboard');
  const widgets = dashboards.map(([, d]) => (JSON.parse(joinToText(d.Properties.DashboardBody)) as { widgets: Widget[] }).widgets);
  return { watchdog, guards, template, dashboards, widgets };
}

describe('the release dashboard', () => {
  it('is one dashboard per watchdog, with one row per guarded function', () => {
    const { dashboards, widgets, watchdog, guards } = stackOf(['Orders', 'Payments', 'Refunds']);
    expect(dashboards).toHaveLength(1);
    expect(dashboards[0][1].Properties.DashboardName).toBe('Shop-Watchdog-releases');
    const rows = [...new Set(widgets[0].map((w) => w.y))];
    expect(rows).toEqual([0, 6, 12]);
    for (const [i, name] of ['Orders', 'Payments', 'Refunds'].entries()) {
      const row = widgets[0].filter((w) => w.y === rows[i]);
      expect(row.map((w) => w.properties.title)).toEqual([
        `Shop/${name}: traffic by version (invocations)`,
        `Shop/${name}: errors by version`,
        `Shop/${name}: p99 duration by version (ms)`,
        `Shop/${name}: probe failure rate by version`,
        `Shop/${name}: release guard alarms`,
      ]);
      // Each row spans the dashboard's 24 columns.
      expect(row.reduce((sum, w) => sum + w.width, 0)).toBe(24);
    }
    for (const g of guards) expect(g.dashboard).toBe(watchdog.dashboard);
  });

  it("shows in each row that function's own metrics and alarms, its heartbeat first", () => {
    const { widgets, template } = stackOf(['Orders', 'Payments']);
    const alarmIds = Object.keys(template.findResources('AWS::CloudWatch::Alarm'));
    for (const name of ['Orders', 'Payments']) {
      const row = widgets[0].filter((w) => w.properties.title.startsWith(`Shop/${name}:`));
      const alarms = row.find((w) => w.type === 'alarm')!.properties.alarms!;
      const own = alarmIds.filter((id) => id.startsWith(name));
      // Heartbeat, probes, three new-version alarms, alias error rate: as the function's layers.
      expect(alarms).toHaveLength(6);
      expect(alarms[0]).toMatch(new RegExp(`^<${name}HeartbeatAlarm[0-9A-F]{8}\\.Arn>$`));
      expect(alarms.map((a) => a.replace(/^<(.+)\.Arn>$/, '$1')).sort()).toEqual(own.sort());
      const traffic = JSON.stringify(row[0].properties.metrics);
      expect(traffic).toContain(`FunctionName=\\"ref-${name}Fn`);
    }
  });

  it('leaves out the functions that set dashboard: false, and is not created when none has a row', () => {
    const some = stackOf(['Orders', 'Payments'], ['Payments']);
    expect(some.widgets[0].map((w) => w.properties.title.split(':')[0])).toEqual(Array(5).fill('Shop/Orders'));
    expect(some.guards[1].dashboard).toBeUndefined();
    const none = stackOf(['Orders'], ['Orders']);
    expect(none.dashboards).toHaveLength(0);
    expect(none.watchdog.dashboard).toBeUndefined();
  });

  it("refuses more widgets than CloudWatch's 500 per dashboard, saying how to split", () => {
    expect(dashboardSizeProblems('Shop/Watchdog', { widgets: 500, rows: 100 })).toEqual([]);
    expect(dashboardSizeProblems('Shop/Watchdog', { widgets: 505, rows: 101 })).toEqual([
      'Shop/Watchdog: dashboard: the release dashboard would hold 505 widgets for 101 guarded functions; CloudWatch allows 500 per dashboard. ' +
        'Set dashboard: false on some guarded functions, or split them over several ReleaseWatchdogs (one dashboard each).',
    ]);
  });

  it('fails the synth when the rows exceed the limit', () => {
    const app = new App();
    const stack = new Stack(app, 'Shop');
    const watchdog = new ReleaseWatchdog(stack, 'Watchdog');
    new GuardedFunction(stack, 'Orders', { watchdog, existingFunction: inlineFunction(stack) });
    for (let i = 0; i < 100; i++) watchdog.addDashboardRow(...rowFiller());
    expect(() => app.synth()).toThrow(/Shop\/Watchdog: dashboard: the release dashboard would hold 505 widgets for 101 guarded functions/);
  });
});

/** Five text widgets: the size of one guarded function's row. */
function rowFiller(): cloudwatch.IWidget[] {
  return Array.from({ length: 5 }, (_, i) => new cloudwatch.TextWidget({ markdown: `row filler ${i}`, width: 4 }));
}

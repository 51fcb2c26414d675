/**
 * The log groups the dashboards query against the synthesized stack: every logs panel names
 * function log groups by the ARN the deployment gives the Grafana task (IOTP_LOG_GROUP_ARN_*),
 * and those are exactly the groups the task role may query. One group outside the role's policy
 * fails a whole Logs Insights query with AccessDenied; one missing leaves a function's logs out.
 */
import { describe, expect, it } from 'vitest';
import {
  asArray,
  logicalId,
  resourcesOfType,
  statementsOfRole,
  useSynth,
} from '#infra/aws/test-support.ts';
import { GRAFANA_MIN_REFRESH } from '#infra/aws/constructs/grafana.ts';
import {
  DEPLOYMENT_PREFIX,
  deploymentKey,
  queryKind,
  type DashboardJson,
} from '#shared/dashboard-model/index.ts';
import { functionNames } from '#infra/topology.ts';
import { dashboards } from './index.ts';
import { logGroupsQueried, refreshSeconds } from './open-tab-cost.ts';

const STAGE = 'dev';
const synth = useSynth({ stage: STAGE, component: 'full' });

/** The logical ids a task environment value or a policy resource takes the ARN of. */
const arnsOf = (value: unknown): string[] =>
  (JSON.stringify(value).match(/"Fn::GetAtt":\["(\w+)","Arn"\]/g) ?? []).map((ref) =>
    ref.replace(/^"Fn::GetAtt":\["/, '').replace(/","Arn"\]$/, ''),
  );

describe('the logs panels query the log groups Grafana may query', () => {
  it('names only function log groups, whose ARNs the task gets, all of them in the role', () => {
    const grafana = synth.stack.grafana;
    expect(grafana).toBeDefined();
    const queryable = statementsOfRole(synth.template, logicalId(synth, grafana!.taskRole))
      .filter((statement) => asArray(statement.Action).includes('logs:StartQuery'))
      .flatMap((statement) => arnsOf(statement.Resource));
    expect(new Set(queryable)).toEqual(
      new Set(functionNames.map((fn) => logicalId(synth, synth.stack.functions[fn].logGroup))),
    );

    const [task] = Object.values(resourcesOfType(synth.template, 'AWS::ECS::TaskDefinition'));
    const [container] = task?.Properties?.ContainerDefinitions as {
      Environment: { Name: string; Value: unknown }[];
    }[];
    const environment = Object.fromEntries(container!.Environment.map((e) => [e.Name, e.Value]));
    const queried = Object.values(dashboards() as unknown as Record<string, DashboardJson>)
      .flatMap((d) => d.panels.flatMap((p) => p.targets ?? []))
      .filter((t) => queryKind(t) === 'logs')
      .flatMap(logGroupsQueried);
    expect(queried.length).toBeGreaterThan(0);
    for (const fn of new Set(queried)) {
      const [group] = arnsOf(
        environment[`${DEPLOYMENT_PREFIX}${deploymentKey.functionLogGroupArn(fn)}`],
      );
      expect(queryable, fn).toContain(group);
    }
  });
});

describe("the run API's link names its stage", () => {
  it('the stage is given to the run API next to the Grafana URL', () => {
    const functions = resourcesOfType(synth.template, 'AWS::Lambda::Function');
    const environment = functions[logicalId(synth, synth.stack.functions.runApi.fn)]?.Properties
      ?.Environment as { Variables: Record<string, unknown> };
    expect(environment.Variables.GRAFANA_STAGE).toBe(STAGE);
    expect(environment.Variables.GRAFANA_URL).toBeDefined();
  });
});

describe("Grafana's minimum refresh", () => {
  it('is the fastest default refresh of the dashboards, set on the Grafana container', () => {
    const fastest = Math.min(
      ...Object.values(dashboards()).map((d) => refreshSeconds(String(d.refresh))),
    );
    expect(refreshSeconds(GRAFANA_MIN_REFRESH)).toBe(fastest);
    const task = Object.values(resourcesOfType(synth.template, 'AWS::ECS::TaskDefinition'))[0];
    const [container] = task?.Properties?.ContainerDefinitions as {
      Environment: { Name: string; Value: unknown }[];
    }[];
    expect(container?.Environment).toContainEqual({
      Name: 'GF_DASHBOARDS_MIN_REFRESH_INTERVAL',
      Value: GRAFANA_MIN_REFRESH,
    });
  });
});

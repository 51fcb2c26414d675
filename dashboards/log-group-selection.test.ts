/**
 * The logGroups variable's selection against the synthesized stack: of every log group the stage
 * creates, the regex keeps exactly those the Grafana task role may query. One group outside the
 * role's policy fails a whole Logs Insights query with AccessDenied; one missing leaves a
 * function's logs out.
 *
 * CloudFormation names a log group that has no name `<stack name>-<logical id>-<random suffix>`
 * (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-name.html);
 * Grafana applies a query variable's regex to each option's value, here the log group's ARN
 * (grafana-cloudwatch-datasource src/variables.ts handleLogGroupsQuery: value = ARN), after
 * interpolating `$stage`.
 */
import { describe, expect, it } from 'vitest';
import { stackNameFor } from '#infra/aws/stage-config.ts';
import {
  asArray,
  logicalId,
  resourcesOfType,
  statementsOfRole,
  useSynth,
} from '#infra/aws/test-support.ts';
import { GRAFANA_MIN_REFRESH } from '#infra/aws/constructs/grafana.ts';
import { dashboards } from './index.ts';
import { refreshSeconds } from './open-tab-cost.ts';
import type { DashboardJson } from '#shared/dashboard-model/index.ts';

const STAGE = 'dev';
const synth = useSynth({ stage: STAGE, component: 'full' });

/** The ARN CloudFormation gives a log group without a name (a placeholder account). */
const arnOf = (logical: string, name?: string) =>
  `arn:aws:logs:us-east-1:123456789012:log-group:${name ?? `${stackNameFor(STAGE)}-${logical}-AbCd1234EfGh`}:*`;

const logGroupsRegex = (): RegExp => {
  const sensors = dashboards().sensors as unknown as DashboardJson;
  const variable = sensors.templating.list.find((v) => v.name === 'logGroups');
  const [, body, flags] = /^\/(.*)\/(\w*)$/.exec(variable?.regex ?? '') ?? [];
  return new RegExp((body ?? '').replaceAll('$stage', STAGE), flags);
};

describe('the logGroups variable selects the log groups Grafana may query', () => {
  it('keeps exactly the groups of the task role QueryStackLogs statement', () => {
    const groups = resourcesOfType(synth.template, 'AWS::Logs::LogGroup');
    const grafana = synth.stack.grafana;
    expect(grafana).toBeDefined();
    const queryable = statementsOfRole(synth.template, logicalId(synth, grafana!.taskRole))
      .filter((statement) => asArray(statement.Action).includes('logs:StartQuery'))
      .flatMap(
        (statement) => JSON.stringify(statement.Resource).match(/"Fn::GetAtt":\["(\w+)"/g) ?? [],
      )
      .map((ref) => ref.replace(/^"Fn::GetAtt":\["/, '').replace(/"$/, ''));
    expect(queryable.length).toBeGreaterThan(0);

    const regex = logGroupsRegex();
    const selected = Object.entries(groups)
      .filter(([logical, group]) =>
        regex.test(arnOf(logical, group.Properties?.LogGroupName as string | undefined)),
      )
      .map(([logical]) => logical);
    expect(new Set(selected)).toEqual(new Set(queryable));
    // The prefix alone would also take the API access logs and Grafana's own log group.
    const prefixed = Object.entries(groups).filter(
      ([, group]) => group.Properties?.LogGroupName === undefined,
    );
    expect(prefixed.length).toBeGreaterThan(selected.length);
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

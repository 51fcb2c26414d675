/** Component `full`: Grafana on Fargate without NAT, its image, secret, role and URL wiring. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './constructs/function-factory.ts';
import { GRAFANA_IMAGE } from './constructs/grafana.ts';
import { OUTPUTS } from './stack.ts';
import { functionNames, queueNames, tableNames } from '#infra/topology.ts';
import {
  DEPLOYMENT_PREFIX,
  deploymentKey,
  deploymentMarkers,
  provisionDashboard,
} from '#shared/dashboard-model/index.ts';
import { dashboardJson, dashboards } from '../../dashboards/index.ts';
import { asArray, logicalId, resourcesOfType, statementsOfRole, useSynth } from './test-support.ts';

const synth = useSynth({ stage: 'dev', component: 'full' });

const grafana = () => {
  const value = synth.stack.grafana;
  if (value === undefined) throw new Error('component full has no Grafana');
  return value;
};
const loadBalancerUrl = () => ({
  'Fn::Join': [
    '',
    ['http://', { 'Fn::GetAtt': [logicalId(synth, grafana().loadBalancer), 'DNSName'] }],
  ],
});

describe('network', () => {
  it('has no NAT gateway and only public subnets', () => {
    synth.template.resourceCountIs('AWS::EC2::NatGateway', 0);
    const subnets = Object.values(resourcesOfType(synth.template, 'AWS::EC2::Subnet'));
    expect(subnets.length).toBeGreaterThanOrEqual(2);
    for (const subnet of subnets) {
      expect(subnet.Properties?.MapPublicIpOnLaunch).toBe(true);
    }
    for (const route of Object.values(resourcesOfType(synth.template, 'AWS::EC2::Route'))) {
      expect(route.Properties).toHaveProperty('GatewayId');
      expect(route.Properties).not.toHaveProperty('NatGatewayId');
    }
  });

  it('runs one task with a public IP in the public subnets', () => {
    synth.template.hasResourceProperties('AWS::ECS::Service', {
      LaunchType: 'FARGATE',
      DesiredCount: 1,
      NetworkConfiguration: {
        AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: 'ENABLED' }),
      },
      DeploymentConfiguration: Match.objectLike({
        DeploymentCircuitBreaker: { Enable: true, Rollback: true },
      }),
    });
  });

  it('admits traffic to the task only from the load balancer', () => {
    const ingress = Object.values(
      resourcesOfType(synth.template, 'AWS::EC2::SecurityGroupIngress'),
    );
    expect(ingress).toHaveLength(1);
    const loadBalancerGroup = grafana().loadBalancer.connections.securityGroups[0]!;
    expect(ingress[0]?.Properties).toMatchObject({
      FromPort: 3000,
      ToPort: 3000,
      SourceSecurityGroupId: { 'Fn::GetAtt': [logicalId(synth, loadBalancerGroup), 'GroupId'] },
    });
    expect(ingress[0]?.Properties).not.toHaveProperty('CidrIp');
  });
});

describe('load balancer', () => {
  it('is internet-facing and listens on HTTP without a domain', () => {
    synth.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Scheme: 'internet-facing',
    });
    synth.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 80,
      Protocol: 'HTTP',
    });
  });

  it('warns at synthesis that plain HTTP is for dev only', () => {
    Annotations.fromStack(synth.stack).hasWarning(
      `/${synth.stack.stackName}/Grafana`,
      Match.stringLikeRegexp('plain HTTP.*dev stage only'),
    );
  });

  it('health-checks Grafana on /api/health', () => {
    synth.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      Port: 3000,
      Protocol: 'HTTP',
      TargetType: 'ip',
      HealthCheckPath: '/api/health',
    });
  });

  it('gives first-boot migrations five minutes before health checks count', () => {
    synth.template.hasResourceProperties('AWS::ECS::Service', {
      HealthCheckGracePeriodSeconds: 300,
      DeploymentConfiguration: Match.objectLike({
        DeploymentCircuitBreaker: { Enable: true, Rollback: true },
      }),
    });
    // Healthy after 2 × 15 s once up; 5 failures in a row before a task is replaced.
    synth.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      HealthCheckIntervalSeconds: 15,
      HealthCheckTimeoutSeconds: 5,
      HealthyThresholdCount: 2,
      UnhealthyThresholdCount: 5,
    });
  });
});

describe('task', () => {
  const container = () => {
    const [task] = Object.values(resourcesOfType(synth.template, 'AWS::ECS::TaskDefinition'));
    const definitions = task?.Properties?.ContainerDefinitions as Record<string, unknown>[];
    expect(definitions).toHaveLength(1);
    return definitions[0]!;
  };
  const environment = () =>
    Object.fromEntries(
      (container().Environment as { Name: string; Value: unknown }[]).map((e) => [e.Name, e.Value]),
    );

  it('runs on ARM64 Fargate with 0.5 vCPU and 1 GiB', () => {
    synth.template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      RequiresCompatibilities: ['FARGATE'],
      RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
      Cpu: '512',
      Memory: '1024',
    });
  });

  it('is stateless by design: no volume, and provisioned dashboards the UI cannot change', () => {
    const [task] = Object.values(resourcesOfType(synth.template, 'AWS::ECS::TaskDefinition'));
    expect(task?.Properties?.Volumes ?? []).toEqual([]);
    expect(container().MountPoints ?? []).toEqual([]);
    synth.template.resourceCountIs('AWS::EFS::FileSystem', 0);
    const provider = readFileSync(
      path.join(REPO_ROOT, 'infra/aws/grafana/provisioning/dashboards/iot-playground.yaml'),
      'utf8',
    );
    expect(provider).toMatch(/allowUiUpdates: false/);
    expect(provider).toMatch(/disableDeletion: true/);
  });

  it('takes the admin password from Secrets Manager, never from plain env', () => {
    const secretId = logicalId(synth, grafana().adminPassword);
    expect(container().Secrets).toEqual([
      { Name: 'GF_SECURITY_ADMIN_PASSWORD', ValueFrom: { Ref: secretId } },
    ]);
    expect(Object.keys(environment())).not.toContain('GF_SECURITY_ADMIN_PASSWORD');
    synth.template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({ PasswordLength: 32 }),
    });
  });

  it('knows its public URL and the region for the CloudWatch datasource', () => {
    expect(environment()).toMatchObject({
      GF_SERVER_ROOT_URL: loadBalancerUrl(),
      AWS_REGION: { Ref: 'AWS::Region' },
      GF_AUTH_ANONYMOUS_ENABLED: 'false',
    });
  });

  it('logs to CloudWatch Logs', () => {
    expect(container().LogConfiguration).toMatchObject({ LogDriver: 'awslogs' });
  });
});

describe("the dashboards' deployment values", () => {
  const environment = () => {
    const [task] = Object.values(resourcesOfType(synth.template, 'AWS::ECS::TaskDefinition'));
    const [container] = task?.Properties?.ContainerDefinitions as {
      Environment: { Name: string; Value: unknown }[];
    }[];
    return Object.fromEntries(container!.Environment.map((e) => [e.Name, e.Value]));
  };
  const value = (key: string) => environment()[`${DEPLOYMENT_PREFIX}${key}`];
  const ref = (construct: Parameters<typeof logicalId>[1]) => ({
    Ref: logicalId(synth, construct),
  });
  const attribute = (construct: Parameters<typeof logicalId>[1], name: string) => ({
    'Fn::GetAtt': [logicalId(synth, construct), name],
  });

  it('gives the task a value for every marker of the generated dashboards', () => {
    const markers = deploymentMarkers(Object.values(dashboards()).map(dashboardJson).join('\n'));
    expect(markers.length).toBeGreaterThan(10);
    for (const marker of markers) expect(environment(), marker).toHaveProperty(marker);
  });

  it("names the stack's own API, functions, queues, tables and log groups", () => {
    const stack = synth.stack;
    const k = deploymentKey;
    expect(value(k.stage())).toBe('dev');
    expect(value(k.httpApi())).toEqual(ref(stack.api.httpApi));
    for (const name of functionNames) {
      const fn = stack.functions[name];
      expect(value(k.function(name))).toEqual(ref(fn.fn));
      expect(value(k.logGroupName(name))).toEqual(ref(fn.logGroup));
      expect(value(k.functionLogGroupArn(name))).toEqual(attribute(fn.logGroup, 'Arn'));
    }
    for (const name of queueNames) {
      expect(value(k.queue(name))).toEqual(attribute(stack.queues[name].queue, 'QueueName'));
      expect(value(k.deadLetterQueue(name))).toEqual(
        attribute(stack.queues[name].deadLetterQueue, 'QueueName'),
      );
    }
    for (const name of tableNames)
      expect(value(k.table(name))).toEqual(ref(stack.tables.tables[name]));
    expect(value(k.logGroupName('apiAccess'))).toEqual(ref(stack.api.accessLogGroup));
  });

  it('provision-dashboards.sh writes what provisionDashboard writes, and refuses what it refuses', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'provision-dashboards-'));
    const source = path.join(dir, 'source');
    const target = path.join(dir, 'target');
    execFileSync('mkdir', ['-p', source]);
    const generated = Object.entries(dashboards()).map(([name, d]) => [name, dashboardJson(d)]);
    for (const [name, json] of generated) writeFileSync(path.join(source, `${name}.json`), json!);
    // Values shaped like the stack's: names, ARNs with `:*`, slashes.
    const values = Object.fromEntries(
      deploymentMarkers(generated.map(([, json]) => json).join('\n')).map((marker) => [
        marker,
        marker.includes('ARN')
          ? `arn:aws:logs:us-east-1:123456789012:log-group:IotPlayground-dev-${marker}-AbC:*`
          : `IotPlayground-dev-${marker.toLowerCase()}/x.y#1`,
      ]),
    );
    const run = (env: Record<string, string>) =>
      execFileSync('sh', [path.join(REPO_ROOT, 'infra/aws/grafana/provision-dashboards.sh')], {
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          IOTP_DASHBOARDS_SOURCE: source,
          IOTP_DASHBOARDS_TARGET: target,
          IOTP_DASHBOARDS_START: 'true',
          ...env,
        },
        stdio: 'pipe',
      });
    run(values);
    for (const [name, json] of generated)
      expect(readFileSync(path.join(target, `${name}.json`), 'utf8'), name).toBe(
        provisionDashboard(json!, values),
      );
    // A marker of the first dashboard: both must refuse its bad value.
    const [first] = deploymentMarkers(generated[0]![1]!);
    expect(() => run({ ...values, [first!]: 'a"b' })).toThrow(/cannot take/);
    expect(() => provisionDashboard(generated[0]![1]!, { ...values, [first!]: 'a"b' })).toThrow(
      /cannot take/,
    );
    const { [first!]: _missing, ...incomplete } = values;
    expect(() => run(incomplete)).toThrow(/no value for/);
  });
});

describe('task role', () => {
  const statements = () => statementsOfRole(synth.template, logicalId(synth, grafana().taskRole));

  it('reads CloudWatch metrics', () => {
    const metrics = statements().find((s) =>
      asArray(s.Action).includes('cloudwatch:GetMetricData'),
    );
    expect(metrics?.Resource).toBe('*');
    expect(asArray(metrics!.Action)).toEqual(
      expect.arrayContaining(['cloudwatch:ListMetrics', 'cloudwatch:DescribeAlarms']),
    );
  });

  it('queries only the log groups of this stack', () => {
    const query = statements().find((s) => asArray(s.Action).includes('logs:StartQuery'));
    expect(query).toBeDefined();
    const resources = JSON.stringify(query!.Resource);
    expect(resources).not.toContain('"*"');
    for (const fn of Object.values(synth.stack.functions)) {
      expect(resources).toContain(logicalId(synth, fn.logGroup));
    }
  });

  it('cannot read the API access logs (IP addresses), even for anonymous viewers', () => {
    const accessLogs = logicalId(synth, synth.stack.api.accessLogGroup);
    expect(JSON.stringify(statements())).not.toContain(accessLogs);
  });

  it('can change nothing', () => {
    const actions = statements().flatMap((s) => asArray(s.Action));
    for (const action of actions) {
      expect(action).toMatch(/^[a-z0-9]+:(Get|List|Describe|StartQuery|StopQuery|FilterLogEvents)/);
    }
  });
});

describe('the VPC default security group restriction', () => {
  it('logs its provider function into a stack log group with retention', () => {
    const resources = synth.template.toJSON().Resources as Record<string, any>;
    const [handlerId] = Object.keys(resources).filter((id) =>
      id.startsWith('CustomVpcRestrictDefaultSGCustomResourceProviderHandler'),
    );
    expect(handlerId).toBeDefined();
    const [groupId, group] = Object.entries(resources).find(
      ([, resource]) =>
        resource.Type === 'AWS::Logs::LogGroup' &&
        JSON.stringify(resource.Properties?.LogGroupName ?? '').includes(handlerId!),
    ) ?? [undefined, undefined];
    expect(group).toMatchObject({
      Properties: {
        LogGroupName: { 'Fn::Join': ['', ['/aws/lambda/', { Ref: handlerId }]] },
        RetentionInDays: 7,
      },
      DeletionPolicy: 'Delete',
    });
    // The group exists before the custom resource first invokes the function.
    const [restrict] = Object.values(resources).filter(
      (resource) => resource.Type === 'Custom::VpcRestrictDefaultSG',
    );
    expect(restrict.DependsOn).toContain(groupId);
  });
});

describe('run API', () => {
  it('gets the load balancer URL as GRAFANA_URL, also given as output', () => {
    const fn = synth.template.toJSON().Resources[logicalId(synth, synth.stack.functions.runApi.fn)];
    expect(fn.Properties.Environment.Variables.GRAFANA_URL).toEqual(loadBalancerUrl());
    expect(synth.template.toJSON().Outputs[OUTPUTS.grafanaUrl].Value).toEqual(loadBalancerUrl());
    expect(synth.template.toJSON().Outputs).toHaveProperty(OUTPUTS.grafanaAdminSecret);
  });
});

describe('image', () => {
  const dockerfile = readFileSync(path.join(REPO_ROOT, GRAFANA_IMAGE.file), 'utf8');
  const provisioning = (file: string) =>
    readFileSync(path.join(REPO_ROOT, 'infra/aws/grafana/provisioning', file), 'utf8');

  it('is built for arm64 from the Dockerfile in the repository', () => {
    const manifest = JSON.parse(
      readFileSync(path.join(synth.outdir, `${synth.stack.artifactId}.assets.json`), 'utf8'),
    ) as { dockerImages: Record<string, { source: { dockerFile: string; platform: string } }> };
    const images = Object.values(manifest.dockerImages);
    expect(images).toHaveLength(1);
    expect(images[0]?.source).toMatchObject({
      dockerFile: GRAFANA_IMAGE.file,
      platform: 'linux/arm64',
    });
  });

  it('stages only the image folder and the dashboards as the build context', () => {
    const staged = readdirSync(synth.outdir).filter((entry) => entry.startsWith('asset.'));
    const contexts = staged.filter((entry) =>
      readdirSync(path.join(synth.outdir, entry)).includes('infra'),
    );
    expect(contexts).toHaveLength(1);
    const context = path.join(synth.outdir, contexts[0]!);
    expect(readdirSync(context).every((entry) => ['infra', 'dashboards'].includes(entry))).toBe(
      true,
    );
    expect(readdirSync(path.join(context, 'infra'))).toEqual(['aws']);
    expect(readdirSync(path.join(context, 'infra/aws'))).toEqual(['grafana']);
  });

  it('starts from a pinned official Grafana release', () => {
    expect(dockerfile).toMatch(/^FROM grafana\/grafana:\d+\.\d+\.\d+(@sha256:[0-9a-f]{64})?$/m);
  });

  it('pins the multi-arch index digest of its tag, not one platform’s image', () => {
    // The index (OCI image index / manifest list) of grafana/grafana:12.2.1: the digest that
    // `docker buildx imagetools inspect grafana/grafana:12.2.1` prints on its first `Digest:`
    // line. Pinning a platform's manifest instead would make the arm64 build pull an amd64
    // image (or fail). Bump tag and digest together, here and in the Dockerfile (README).
    const pinned = {
      tag: '12.2.1',
      indexDigest: 'sha256:35c41e0fd0295f5d0ee5db7e780cf33506abfaf47686196f825364889dee878b',
    };
    const from = /^FROM (\S+)$/m.exec(dockerfile)?.[1];
    expect(from).toBe(`grafana/grafana:${pinned.tag}@${pinned.indexDigest}`);
  });

  it('provisions the CloudWatch datasource with the region from the environment', () => {
    const datasource = provisioning('datasources/cloudwatch.yaml');
    expect(datasource).toMatch(/type: cloudwatch/);
    expect(datasource).toMatch(/authType: default/);
    expect(datasource).toMatch(/defaultRegion: \$\{AWS_REGION\}/);
  });

  it('provisions the dashboards the entry point writes from those the Dockerfile copies', () => {
    const script = readFileSync(
      path.join(REPO_ROOT, 'infra/aws/grafana/provision-dashboards.sh'),
      'utf8',
    );
    const source = /IOTP_DASHBOARDS_SOURCE:-(\S+)\}/.exec(script)?.[1];
    const target = /IOTP_DASHBOARDS_TARGET:-(\S+)\}/.exec(script)?.[1];
    expect(dockerfile).toMatch(new RegExp(`^COPY .*dashboards/generated\\S* ${source}/?$`, 'm'));
    expect(/path: (\S+)/.exec(provisioning('dashboards/iot-playground.yaml'))?.[1]).toBe(target);
    expect(dockerfile).toMatch(
      /^COPY infra\/aws\/grafana\/provision-dashboards\.sh (\S+)\nENTRYPOINT \["\/bin\/sh", "\1"\]$/m,
    );
    // The base image's entry point starts Grafana once the dashboards are written.
    expect(script).toMatch(/exec "\$\{IOTP_DASHBOARDS_START:-\/run\.sh\}" "\$@"$/m);
  });
});

describe('with a Grafana domain', () => {
  const withDomain = useSynth({
    component: 'full',
    grafanaDomainName: 'grafana.example.com',
    hostedZoneName: 'example.com',
    hostedZoneId: 'Z0123456789ABCDEFGHIJ',
    grafanaAnonymousViewer: 'true',
  });

  it('has no plain-HTTP warning', () => {
    Annotations.fromStack(withDomain.stack).hasNoWarning('*', Match.stringLikeRegexp('plain HTTP'));
  });

  it('serves HTTPS with the certificate and redirects HTTP', () => {
    withDomain.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 443,
      Protocol: 'HTTPS',
      Certificates: [Match.objectLike({ CertificateArn: Match.anyValue() })],
    });
    withDomain.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 80,
      DefaultActions: [
        Match.objectLike({
          Type: 'redirect',
          RedirectConfig: Match.objectLike({ Protocol: 'HTTPS', Port: '443' }),
        }),
      ],
    });
    withDomain.template.hasResourceProperties('AWS::Route53::RecordSet', {
      Name: 'grafana.example.com.',
      Type: 'A',
    });
  });

  it('gives the run API the https URL and lets anonymous viewers in when asked', () => {
    const stack = withDomain.stack;
    const fn =
      withDomain.template.toJSON().Resources[logicalId(withDomain, stack.functions.runApi.fn)];
    expect(fn.Properties.Environment.Variables.GRAFANA_URL).toBe('https://grafana.example.com');
    const [task] = Object.values(resourcesOfType(withDomain.template, 'AWS::ECS::TaskDefinition'));
    const [container] = task?.Properties?.ContainerDefinitions as {
      Environment: { Name: string; Value: unknown }[];
    }[];
    const environment = Object.fromEntries(container!.Environment.map((e) => [e.Name, e.Value]));
    expect(environment).toMatchObject({
      GF_SERVER_ROOT_URL: 'https://grafana.example.com',
      GF_SECURITY_COOKIE_SECURE: 'true',
      GF_AUTH_ANONYMOUS_ENABLED: 'true',
      GF_AUTH_ANONYMOUS_ORG_ROLE: 'Viewer',
    });
  });

  it('is cdk-nag AwsSolutions clean', () => {
    expect(withDomain.nagFindings()).toEqual([]);
  });
});

describe('cdk-nag', () => {
  it('is AwsSolutions clean', () => {
    expect(synth.nagFindings()).toEqual([]);
  });
});

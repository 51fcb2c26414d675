/**
 * What the infrastructure panel's function gets beside its topology bindings: its stage and
 * who may call it, the GitHub credential's secret — readable by this function alone, its own
 * role granted `GetSecretValue` and every other principal denied by the secret's policy — and
 * the right to tell the alarm topic when it stops an idle Grafana.
 */
import { type RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { InfraPanelSettings, StageName } from '../stage-config.ts';

export interface InfraPanelProps {
  fn: lambda.Function;
  stage: StageName;
  settings: InfraPanelSettings;
  /** The stage's alarm topic, when it has one (alarmEmail). */
  alarmTopic?: sns.ITopic;
  removalPolicy: RemovalPolicy;
}

/** The secret's name: under the stack's prefix, the only secrets the stage's roles may read. */
export const infraPanelSecretName = (stackName: string): string =>
  `${stackName}-infra-panel-github`;

export class InfraPanel extends Construct {
  /** The GitHub credential, where the panel is set up (context githubRepository). */
  readonly secret?: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: InfraPanelProps) {
    super(scope, id);
    const { fn, settings } = props;
    fn.addEnvironment('INFRA_STAGE', props.stage);
    fn.addEnvironment('INFRA_ANONYMOUS', String(settings.anonymous));
    fn.addEnvironment('INFRA_IDLE_STOP_SECONDS', String(settings.idleMinutes * 60));

    if (settings.repository !== undefined) {
      const role = fn.role!;
      this.secret = new secretsmanager.Secret(this, 'GitHubCredential', {
        secretName: infraPanelSecretName(Stack.of(this).stackName),
        description:
          'GitHub credential of the infrastructure panel: a fine-grained token with actions:write ' +
          'on the repository, or a GitHub App {appId, installationId, privateKey} (docs/infra-panel.md)',
        // A placeholder until someone puts the credential (GitHub refuses it until then).
        generateSecretString: { passwordLength: 40, excludePunctuation: true },
        removalPolicy: props.removalPolicy,
      });
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['secretsmanager:GetSecretValue'],
          resources: [this.secret.secretArn],
        }),
      );
      // Readable by this function alone: whatever another principal's policies allow, the
      // secret's own policy refuses it the value (putting a new value stays possible).
      this.secret.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'OnlyTheInfraPanelFunctionReads',
          effect: iam.Effect.DENY,
          principals: [new iam.AnyPrincipal()],
          actions: ['secretsmanager:GetSecretValue'],
          resources: ['*'],
          conditions: { ArnNotEquals: { 'aws:PrincipalArn': role.roleArn } },
        }),
      );
      // Secrets Manager checks the policy grants no broad access (its Zelkova check): the stage's
      // execution policy puts a secret's policy only so (secretsmanager:BlockPublicPolicy).
      const policy = this.secret.node.findChild('Policy').node
        .defaultChild as secretsmanager.CfnResourcePolicy;
      policy.blockPublicPolicy = true;
      Validations.of(this.secret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'The value is a GitHub credential that only GitHub can issue: a fine-grained token ' +
          'expires on the date set when it is created, and a GitHub App key mints hour-long ' +
          'tokens; rotate by putting a new value (docs/infra-panel.md), no Lambda can do it.',
      });
      fn.addEnvironment('GITHUB_REPOSITORY', settings.repository);
      fn.addEnvironment('GITHUB_CREDENTIAL_SECRET_ARN', this.secret.secretArn);
    }

    if (props.alarmTopic) {
      props.alarmTopic.grantPublish(fn);
      fn.addEnvironment('ALARM_TOPIC_ARN', props.alarmTopic.topicArn);
    }
  }
}

/**
 * An AWS Budgets cost budget for the stage: mail at 80% of the monthly limit spent and when the
 * month's forecast passes it. It counts costs tagged `iot-playground:stage=<stage>` (every
 * resource of the stack carries the tag), which Billing counts only once the tag is activated
 * as a cost allocation tag (README, first-deploy checklist). Budgets without actions are free.
 */
import { Annotations, Stack } from 'aws-cdk-lib';
import * as budgets from 'aws-cdk-lib/aws-budgets';
import { Construct } from 'constructs';

/** The stack tag the budget filters on. */
export const STAGE_COST_TAG = 'iot-playground:stage';

export interface StageBudgetProps {
  stage: string;
  monthlyLimitUsd: number;
  alarmEmail?: string;
}

export class StageBudget extends Construct {
  readonly budget: budgets.CfnBudget;

  constructor(scope: Construct, id: string, props: StageBudgetProps) {
    super(scope, id);
    const subscribers = props.alarmEmail
      ? [{ subscriptionType: 'EMAIL', address: props.alarmEmail }]
      : [];
    if (subscribers.length === 0) {
      Annotations.of(this).addWarningV2(
        'iot-playground:budget-without-email',
        'The stage budget mails no one: give alarmEmail to be told when spending runs away.',
      );
    }
    const notification = (notificationType: string, threshold: number) => ({
      notification: {
        notificationType,
        comparisonOperator: 'GREATER_THAN',
        threshold,
        thresholdType: 'PERCENTAGE',
      },
      subscribers,
    });
    this.budget = new budgets.CfnBudget(this, 'Budget', {
      budget: {
        // Under the stack's name prefix, the only budgets the execution policy may manage.
        budgetName: `${Stack.of(this).stackName}-monthly`,
        budgetType: 'COST',
        timeUnit: 'MONTHLY',
        budgetLimit: { amount: props.monthlyLimitUsd, unit: 'USD' },
        costFilters: { TagKeyValue: [`user:${STAGE_COST_TAG}$${props.stage}`] },
      },
      notificationsWithSubscribers:
        subscribers.length === 0
          ? undefined
          : [notification('ACTUAL', 80), notification('FORECASTED', 100)],
    });
  }
}

/** The DynamoDB tables of the topology: on demand, point-in-time recovery, TTL. */
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { type KeyAttribute, type TableName, tableNames, topology } from '#infra/topology.ts';
import type { StageSettings } from '../stage-config.ts';

export type TableAccess = 'read' | 'readWrite' | 'write';

/**
 * Data-plane actions per access level, listed rather than taken from `grantReadData` and
 * friends: no `Scan` (the design forbids scans on request paths, and IAM now enforces it) and
 * no stream or wildcard actions. `TransactWriteItems` needs no action of its own; IAM
 * authorises each of its items as the Put/Update/Delete/ConditionCheck it contains.
 */
export const TABLE_ACTIONS: Record<'read' | 'write', readonly string[]> = {
  read: [
    'dynamodb:GetItem',
    'dynamodb:BatchGetItem',
    'dynamodb:Query',
    'dynamodb:ConditionCheckItem',
    'dynamodb:DescribeTable',
  ],
  write: [
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
    'dynamodb:BatchWriteItem',
    'dynamodb:ConditionCheckItem',
    'dynamodb:DescribeTable',
  ],
};

export const tableActions = (access: TableAccess): string[] => {
  const actions =
    access === 'read'
      ? TABLE_ACTIONS.read
      : access === 'write'
        ? TABLE_ACTIONS.write
        : [...TABLE_ACTIONS.read, ...TABLE_ACTIONS.write];
  return [...new Set(actions)];
};

const attribute = (key: KeyAttribute): dynamodb.Attribute => ({
  name: key.name,
  type: key.type === 'S' ? dynamodb.AttributeType.STRING : dynamodb.AttributeType.NUMBER,
});

export interface DataTablesProps {
  settings: StageSettings;
}

export class DataTables extends Construct {
  readonly tables: Record<TableName, dynamodb.Table>;

  constructor(scope: Construct, id: string, props: DataTablesProps) {
    super(scope, id);
    const entries = tableNames.map((name) => {
      const spec = topology.tables[name];
      const table = new dynamodb.Table(this, name, {
        partitionKey: attribute(spec.partitionKey),
        sortKey: spec.sortKey ? attribute(spec.sortKey) : undefined,
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        timeToLiveAttribute: spec.ttlAttribute,
        // Encrypted at rest with the AWS owned key: no KMS charge and no key policy to keep.
        encryption: dynamodb.TableEncryption.DEFAULT,
        removalPolicy: props.settings.removalPolicy,
        deletionProtection: props.settings.deletionProtection,
      });
      for (const index of spec.indexes) {
        table.addGlobalSecondaryIndex({
          indexName: index.name,
          partitionKey: attribute(index.partitionKey),
          sortKey: index.sortKey ? attribute(index.sortKey) : undefined,
          projectionType: dynamodb.ProjectionType.ALL,
        });
      }
      return [name, table] as const;
    });
    this.tables = Object.fromEntries(entries) as Record<TableName, dynamodb.Table>;
  }

  /**
   * Grants `access` on the table, and reads on each of its indexes by name (indexes are only
   * ever queried), so no policy holds an `index/*` wildcard.
   */
  grant(grantee: iam.IGrantable, name: TableName, access: TableAccess): void {
    const table = this.tables[name];
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: tableActions(access), resources: [table.tableArn] }),
    );
    const indexArns = topology.tables[name].indexes.map(
      (index) => `${table.tableArn}/index/${index.name}`,
    );
    if (access !== 'write' && indexArns.length > 0) {
      grantee.grantPrincipal.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: ['dynamodb:Query'], resources: indexArns }),
      );
    }
  }
}

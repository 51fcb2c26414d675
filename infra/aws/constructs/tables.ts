/** The DynamoDB tables of the topology: on demand, point-in-time recovery, TTL. */
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import {
  type KeyAttribute,
  type TableAccessLevel,
  type TableName,
  tableNames,
  topology,
} from '#infra/topology.ts';
import type { StageSettings } from '../stage-config.ts';

export type TableAccess = TableAccessLevel;

/**
 * Data-plane actions per access level: exactly the calls the code makes, listed rather than
 * taken from `grantReadData` and friends. No `Scan` (the design forbids scans on request
 * paths, and IAM enforces it), no stream, transaction or wildcard actions.
 */
export const TABLE_ACTIONS: Record<TableAccess, readonly string[]> = {
  // Lookups and index queries.
  read: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'],
  // Bulk writes of new rows (the consumer's BatchWriteItem).
  write: ['dynamodb:BatchWriteItem', 'dynamodb:PutItem'],
  // Lookups and queries plus bulk writes (the consumer, which rebuilds a run's report).
  readAndWrite: [
    'dynamodb:GetItem',
    'dynamodb:BatchGetItem',
    'dynamodb:Query',
    'dynamodb:BatchWriteItem',
    'dynamodb:PutItem',
  ],
  // Reads plus conditional puts and updates of single items (runs and their slots).
  readWrite: [
    'dynamodb:GetItem',
    'dynamodb:BatchGetItem',
    'dynamodb:Query',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
  ],
  // What Powertools' DynamoDB persistence layer calls for idempotency records.
  idempotency: [
    'dynamodb:GetItem',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
  ],
};

export const tableActions = (access: TableAccess): string[] => [...TABLE_ACTIONS[access]];

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
      // A new generation is a new construct: CloudFormation creates a new table and removes the
      // old one from the stack (deleted, or kept where the removal policy retains it).
      const id = spec.generation === undefined ? name : `${name}V${spec.generation}`;
      const table = new dynamodb.Table(this, id, {
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
    if ((access === 'read' || access === 'readWrite') && indexArns.length > 0) {
      grantee.grantPrincipal.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: ['dynamodb:Query'], resources: indexArns }),
      );
    }
  }
}

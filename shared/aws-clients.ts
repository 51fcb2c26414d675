/**
 * AWS SDK clients, built once per container at module scope. Endpoints come from the SDK's
 * own configuration (e.g. AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL_SQS), which is how the
 * local stack points the unchanged handlers at its stand-ins.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';

export const createDynamoDbClient = (): DynamoDBClient => new DynamoDBClient({});

export const createDocumentClient = (client: DynamoDBClient = createDynamoDbClient()) =>
  DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });

export const createSqsClient = (): SQSClient => new SQSClient({});

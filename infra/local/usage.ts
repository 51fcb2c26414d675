/**
 * What the local stack's traffic would be billed for on AWS: API requests, Lambda invocations
 * and GB-seconds, DynamoDB read and write units, CloudWatch log bytes (EMF and other lines).
 * The stack's components each make one call in here; `GET /local/stats` and the benchmark
 * read the totals. SQS requests are counted by the SQS endpoint itself.
 */

/** Partition key attribute of each global secondary index, per physical table name. */
export type IndexKeys = Record<string, string[]>;

export interface UsageTotals {
  apiRequests: number;
  lambda: Record<string, { invocations: number; gbSeconds: number; durationMs: number }>;
  dynamodb: { writeUnits: number; readUnits: number };
  logs: { emfBytes: number; otherBytes: number };
}

type AttributeValue = Record<string, unknown>;
type Item = Record<string, AttributeValue>;

/** DynamoDB's item size rules: names and values in UTF-8, numbers ~1 byte per 2 digits + 1. */
export const attributeSize = (value: AttributeValue): number => {
  const [type, inner] = Object.entries(value)[0] ?? ['NULL', true];
  switch (type) {
    case 'S':
      return Buffer.byteLength(String(inner));
    case 'B':
      return Buffer.byteLength(String(inner), 'base64');
    case 'N':
      return (
        Math.ceil(
          String(inner)
            .replace(/^-|\.|e.*$/gi, '')
            .replace(/^0+/, '').length / 2,
        ) + 1
      );
    case 'BOOL':
    case 'NULL':
      return 1;
    case 'SS':
    case 'NS':
    case 'BS':
      return (inner as string[]).reduce(
        (sum, member) => sum + attributeSize({ [type.slice(0, 1)]: member }),
        0,
      );
    case 'L':
      return 3 + (inner as AttributeValue[]).reduce((sum, v) => sum + 1 + attributeSize(v), 0);
    case 'M':
      return 3 + itemSize(inner as Item) + Object.keys(inner as Item).length;
    default:
      return 0;
  }
};

export const itemSize = (item: Item): number =>
  Object.entries(item).reduce(
    (sum, [name, value]) => sum + Buffer.byteLength(name) + attributeSize(value),
    0,
  );

/** Write units of one item: 1 per KB, once for the table and once per index holding it. */
const writeUnits = (item: Item, indexKeys: string[]): number =>
  Math.max(1, Math.ceil(itemSize(item) / 1024)) *
  (1 + indexKeys.filter((key) => key in item).length);

/** Read units of items read together: 1 per 4 KB strongly consistent, half eventually. */
const readUnits = (items: Item[], consistent: boolean): number =>
  Math.max(1, Math.ceil(items.reduce((sum, item) => sum + itemSize(item), 0) / 4096)) *
  (consistent ? 1 : 0.5);

export class UsageCounters {
  private totals: UsageTotals = UsageCounters.empty();

  constructor(private readonly indexKeys: IndexKeys) {}

  private static empty(): UsageTotals {
    return {
      apiRequests: 0,
      lambda: {},
      dynamodb: { writeUnits: 0, readUnits: 0 },
      logs: { emfBytes: 0, otherBytes: 0 },
    };
  }

  apiRequest(): void {
    this.totals.apiRequests++;
  }

  /** Lambda bills the duration rounded up to the millisecond, times the memory. */
  invocation(functionName: string, durationMs: number, memoryMb: number): void {
    const entry = (this.totals.lambda[functionName] ??= {
      invocations: 0,
      gbSeconds: 0,
      durationMs: 0,
    });
    entry.invocations++;
    entry.durationMs += durationMs;
    entry.gbSeconds += (Math.ceil(durationMs) / 1000) * (memoryMb / 1024);
  }

  logLine(line: string, emf: boolean): void {
    const bytes = Buffer.byteLength(line) + 1;
    if (emf) this.totals.logs.emfBytes += bytes;
    else this.totals.logs.otherBytes += bytes;
  }

  /** One DynamoDB request and its answer, as JSON bodies; unreadable bodies count nothing. */
  dynamoDbRequest(operation: string, requestBody: Buffer, responseBody: Buffer): void {
    try {
      this.countCapacity(
        operation,
        JSON.parse(requestBody.toString('utf8')) as Record<string, unknown>,
        JSON.parse(responseBody.toString('utf8')) as Record<string, unknown>,
      );
    } catch {
      // A malformed exchange is an error DynamoDB does not bill.
    }
  }

  private countCapacity(
    operation: string,
    input: Record<string, unknown>,
    output: Record<string, unknown>,
  ): void {
    if (typeof output.__type === 'string' && !/ConditionalCheckFailed/.test(output.__type)) return;
    const keysOf = (table: unknown) => this.indexKeys[String(table)] ?? [];
    const units = this.totals.dynamodb;
    switch (operation) {
      case 'PutItem':
        units.writeUnits += writeUnits(input.Item as Item, keysOf(input.TableName));
        break;
      case 'UpdateItem':
      case 'DeleteItem':
        // The item's size after the write is not in the request; these items are small.
        units.writeUnits += 1;
        break;
      case 'BatchWriteItem': {
        const unprocessed = (output.UnprocessedItems ?? {}) as Record<string, unknown[]>;
        for (const [table, requests] of Object.entries(
          input.RequestItems as Record<string, { PutRequest?: { Item: Item } }[]>,
        )) {
          const written = requests.length - (unprocessed[table]?.length ?? 0);
          // Which ones stayed unprocessed does not matter: these rows are alike in size.
          for (const request of requests.slice(0, written)) {
            units.writeUnits += request.PutRequest
              ? writeUnits(request.PutRequest.Item, keysOf(table))
              : 1;
          }
        }
        break;
      }
      case 'GetItem':
        units.readUnits += readUnits(
          output.Item ? [output.Item as Item] : [],
          input.ConsistentRead === true,
        );
        break;
      case 'BatchGetItem':
        for (const items of Object.values((output.Responses ?? {}) as Record<string, Item[]>)) {
          units.readUnits += items.reduce((sum, item) => sum + readUnits([item], false), 0);
        }
        break;
      case 'Query':
        units.readUnits += readUnits((output.Items ?? []) as Item[], input.ConsistentRead === true);
        break;
    }
  }

  snapshot(): UsageTotals {
    return structuredClone(this.totals);
  }

  reset(): void {
    this.totals = UsageCounters.empty();
  }
}

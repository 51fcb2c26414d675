/**
 * The units a DynamoDB request is billed for, priced from its JSON bodies by DynamoDB's item
 * size rules (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html).
 * Runs in the DynamoDB thread, once per request: each body is parsed here and nowhere else.
 */

/** Name and partition key attribute of each global secondary index, per physical table name. */
export type TableIndexes = Record<string, { name: string; partitionKey: string }[]>;

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

/** Units one DynamoDB request is billed for a table, or for one of its indexes. */
export interface DynamoDbCharge {
  table: string;
  /** The global secondary index the units are billed for; the table's own when absent. */
  index?: string;
  writeUnits: number;
  readUnits: number;
}

/** Writes to a table (or one of its indexes) that were throttled: WriteThrottleEvents. */
export interface WriteThrottleEvents {
  table: string;
  index?: string;
  count: number;
}

/** One DynamoDB exchange as billed: the tables it named, throttled or charged. */
export interface DynamoDbExchange {
  tables: string[];
  /** Refused before DynamoDB did any work (a fault of the local proxy): nothing billed. */
  throttled: boolean;
  charges: DynamoDbCharge[];
  /**
   * Each write to a table or index that was throttled is an event: every write of a throttled
   * request, and the items a BatchWriteItem handed back unprocessed (metrics-dimensions:
   * WriteThrottleEvents).
   */
  writeThrottleEvents: WriteThrottleEvents[];
}

/** Write units of one item: 1 per KB. */
const itemWriteUnits = (item: Item): number => Math.max(1, Math.ceil(itemSize(item) / 1024));

/** Read units of items read together: 1 per 4 KB strongly consistent, half eventually. */
const readUnits = (items: Item[], consistent: boolean): number =>
  Math.max(1, Math.ceil(items.reduce((sum, item) => sum + itemSize(item), 0) / 4096)) *
  (consistent ? 1 : 0.5);

/**
 * Prices DynamoDB requests from their JSON bodies, parsed once for the usage totals and the
 * local dashboards alike: a write unit per KB per row, once more per index that holds the row;
 * a read unit per 4 KB read.
 */
export class DynamoDbMeter {
  constructor(private readonly indexes: TableIndexes) {}

  /** Undefined for an exchange whose bodies are not JSON (an error DynamoDB does not bill). */
  measure(
    operation: string,
    requestBody: Buffer,
    statusCode: number,
    responseBody: Buffer | undefined,
  ): DynamoDbExchange | undefined {
    let input: Record<string, unknown>;
    let output: Record<string, unknown> | undefined;
    try {
      input = JSON.parse(requestBody.toString('utf8')) as Record<string, unknown>;
      output =
        responseBody === undefined
          ? undefined
          : (JSON.parse(responseBody.toString('utf8')) as Record<string, unknown>);
    } catch {
      return undefined;
    }
    const tables =
      typeof input.TableName === 'string'
        ? [input.TableName]
        : Object.keys((input.RequestItems as object | undefined) ?? {});
    const failed =
      statusCode !== 200 &&
      !(typeof output?.__type === 'string' && /ConditionalCheckFailed/.test(output.__type));
    return {
      tables,
      throttled: output === undefined,
      charges: failed || output === undefined ? [] : this.charges(operation, input, output),
      writeThrottleEvents: this.writeThrottleEvents(operation, input, output),
    };
  }

  /** The table and index writes throttled: all of a throttled request's, or the unprocessed. */
  private writeThrottleEvents(
    operation: string,
    input: Record<string, unknown>,
    output: Record<string, unknown> | undefined,
  ): WriteThrottleEvents[] {
    type Requests = Record<string, { PutRequest?: { Item: Item } }[]>;
    const events = new Map<string, WriteThrottleEvents>();
    const event = (table: string, index?: string) => {
      const key = `${table}\n${index ?? ''}`;
      const entry = events.get(key) ?? {
        table,
        ...(index === undefined ? {} : { index }),
        count: 0,
      };
      entry.count++;
      events.set(key, entry);
    };
    const write = (table: string, item: Item | undefined) => {
      event(table);
      for (const index of this.indexes[table] ?? [])
        if (item !== undefined && index.partitionKey in item) event(table, index.name);
    };
    const batch = (requests: Requests) => {
      for (const [name, writes] of Object.entries(requests))
        for (const request of writes) write(name, request.PutRequest?.Item);
    };
    if (output === undefined) {
      if (operation === 'BatchWriteItem') batch(input.RequestItems as Requests);
      else if (operation === 'PutItem') write(String(input.TableName), input.Item as Item);
      else if (operation === 'UpdateItem' || operation === 'DeleteItem')
        write(String(input.TableName), undefined);
    } else if (operation === 'BatchWriteItem') {
      batch((output.UnprocessedItems ?? {}) as Requests);
    }
    return [...events.values()];
  }

  private charges(
    operation: string,
    input: Record<string, unknown>,
    output: Record<string, unknown>,
  ): DynamoDbCharge[] {
    const charges = new Map<string, DynamoDbCharge>();
    const charge = (table: string, index: string | undefined, write: number, read: number) => {
      const key = `${table}\n${index ?? ''}`;
      const entry = charges.get(key) ?? { table, writeUnits: 0, readUnits: 0 };
      if (index !== undefined) entry.index = index;
      entry.writeUnits += write;
      entry.readUnits += read;
      charges.set(key, entry);
    };
    /** `sign` −1 takes back the units of a row BatchWriteItem left unprocessed. */
    const write = (table: string, item: Item | undefined, sign = 1) => {
      // UpdateItem and DeleteItem: the item's size is not in the request; these items are small.
      const units = sign * (item === undefined ? 1 : itemWriteUnits(item));
      charge(table, undefined, units, 0);
      for (const index of this.indexes[table] ?? []) {
        if (item !== undefined && index.partitionKey in item) charge(table, index.name, units, 0);
      }
    };
    const table = String(input.TableName);
    switch (operation) {
      case 'PutItem':
        write(table, input.Item as Item);
        break;
      case 'UpdateItem':
      case 'DeleteItem':
        write(table, undefined);
        break;
      case 'BatchWriteItem': {
        type Requests = Record<string, { PutRequest?: { Item: Item } }[]>;
        for (const [name, requests] of Object.entries(input.RequestItems as Requests)) {
          for (const request of requests) write(name, request.PutRequest?.Item);
        }
        // Packs differ in size: what stayed unprocessed is taken back item by item.
        for (const [name, requests] of Object.entries(
          (output.UnprocessedItems ?? {}) as Requests,
        )) {
          for (const request of requests) write(name, request.PutRequest?.Item, -1);
        }
        break;
      }
      case 'GetItem':
        charge(
          table,
          undefined,
          0,
          readUnits(output.Item ? [output.Item as Item] : [], input.ConsistentRead === true),
        );
        break;
      case 'BatchGetItem':
        for (const [name, items] of Object.entries(
          (output.Responses ?? {}) as Record<string, Item[]>,
        )) {
          charge(
            name,
            undefined,
            0,
            items.reduce((sum, item) => sum + readUnits([item], false), 0),
          );
        }
        break;
      case 'Query':
        charge(
          table,
          typeof input.IndexName === 'string' ? input.IndexName : undefined,
          0,
          readUnits((output.Items ?? []) as Item[], input.ConsistentRead === true),
        );
        break;
    }
    return [...charges.values()];
  }
}

/**
 * SNS `Publish` to the local stack's topics, as `@aws-sdk/client-sns` calls it (the Query
 * protocol: a form-encoded `POST /`, XML answers), keeping what was published so it can be
 * read back (`GET /local/notifications`). Nothing is delivered anywhere.
 * https://docs.aws.amazon.com/sns/latest/api/API_Publish.html
 * https://docs.aws.amazon.com/sns/latest/api/CommonErrors.html
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface PublishedMessage {
  topicArn: string;
  subject?: string;
  message: string;
  messageId: string;
  publishedAt: string;
}

export interface LocalSns {
  endpoint: string;
  topicArn(name: string): string;
  published(): PublishedMessage[];
  stop(): Promise<void>;
}

/** Publish's limits: a message of at most 256 KiB, a subject "less than 100 characters long". */
const MAX_MESSAGE_BYTES = 262_144;
const MAX_SUBJECT = 99;
const REGION = 'us-east-1';
const ACCOUNT = '000000000000';

const escapeXml = (text: string) => text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

const fault = (code: string, message: string, type = 'Sender') =>
  `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>${type}</Type><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`;

/** What Publish refuses of its parameters, as SNS words it; undefined when it is valid. */
export const publishProblem = (
  params: URLSearchParams,
  topics: Set<string>,
): { status: number; code: string; message: string } | undefined => {
  const topicArn = params.get('TopicArn');
  const message = params.get('Message');
  const subject = params.get('Subject');
  if (message === null || message === '') {
    return { status: 400, code: 'InvalidParameter', message: 'Invalid parameter: Empty message' };
  }
  if (Buffer.byteLength(message, 'utf8') > MAX_MESSAGE_BYTES) {
    return {
      status: 400,
      code: 'InvalidParameter',
      message: 'Invalid parameter: Message too long',
    };
  }
  if (
    subject !== null &&
    (subject.length === 0 || subject.length > MAX_SUBJECT || !/^[\x20-\x7e]+$/.test(subject))
  ) {
    // "ASCII text that begins with a letter, number, or punctuation mark; must not include
    // line breaks or control characters; and must be less than 100 characters long."
    return { status: 400, code: 'InvalidParameter', message: 'Invalid parameter: Subject' };
  }
  if (topicArn === null || !topics.has(topicArn)) {
    return { status: 404, code: 'NotFound', message: 'Topic does not exist' };
  }
  return undefined;
};

export const startLocalSns = async (
  topicNames: string[],
  options: { host?: string } = {},
): Promise<LocalSns> => {
  const arnOf = (name: string) => `arn:aws:sns:${REGION}:${ACCOUNT}:${name}`;
  const topics = new Set(topicNames.map(arnOf));
  const published: PublishedMessage[] = [];

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const params = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      const reply = (status: number, xml: string) => {
        response.writeHead(status, { 'content-type': 'text/xml' });
        response.end(xml);
      };
      if (params.get('Action') !== 'Publish') {
        reply(400, fault('InvalidAction', `${params.get('Action') ?? '(none)'} is not emulated`));
        return;
      }
      const problem = publishProblem(params, topics);
      if (problem) {
        reply(problem.status, fault(problem.code, problem.message));
        return;
      }
      const messageId = randomUUID();
      published.push({
        topicArn: params.get('TopicArn')!,
        ...(params.get('Subject') === null ? {} : { subject: params.get('Subject')! }),
        message: params.get('Message')!,
        messageId,
        publishedAt: new Date().toISOString(),
      });
      reply(
        200,
        `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>${messageId}</MessageId></PublishResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></PublishResponse>`,
      );
    });
  });
  await once(server.listen(0, options.host ?? '127.0.0.1'), 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://${options.host ?? '127.0.0.1'}:${port}`,
    topicArn: (name) => {
      const arn = arnOf(name);
      if (!topics.has(arn)) throw new Error(`No local topic ${name}`);
      return arn;
    },
    published: () => [...published],
    stop: async () => {
      server.close();
      server.closeAllConnections();
    },
  };
};

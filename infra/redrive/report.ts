/**
 * What an operator needs to know before redriving the dead-letter queue: how many messages,
 * how old, which runs they hold, and why the consumer failed them (from its log lines).
 * Pure: the CLI reads the queue and the logs and hands them in.
 */

/** A dead letter as ReceiveMessage returns it (only the fields read here). */
export interface DeadLetter {
  MessageId?: string;
  Body?: string;
  Attributes?: Partial<Record<string, string>>;
}

export interface DeadLetterSample {
  messageId: string;
  sentAt?: string;
  receiveCount?: number;
  runId?: string;
  batchId?: string;
  readings?: number;
}

export interface FailureReason {
  reason: string;
  count: number;
}

export interface DeadLetterReport {
  /** Messages in the queue (visible + in flight), as SQS counts them. */
  count: number;
  /** The oldest SentTimestamp among the sampled messages (SQS keeps it across the redrive). */
  oldestSampled?: string;
  sample: DeadLetterSample[];
  /** Distinct failure reasons in the consumer's log lines, most frequent first. */
  failureReasons: FailureReason[];
}

const MAX_REASONS = 5;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const parseJson = (text: string | undefined): unknown => {
  try {
    return text === undefined ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
};

const describeLetter = (letter: DeadLetter): DeadLetterSample => {
  const body = parseJson(letter.Body);
  const sent = Number(letter.Attributes?.['SentTimestamp']);
  const received = Number(letter.Attributes?.['ApproximateReceiveCount']);
  return {
    messageId: letter.MessageId ?? '?',
    ...(Number.isFinite(sent) && sent > 0 && { sentAt: new Date(sent).toISOString() }),
    ...(Number.isInteger(received) && received > 0 && { receiveCount: received }),
    ...(isObject(body) && typeof body['runId'] === 'string' && { runId: body['runId'] }),
    ...(isObject(body) && typeof body['batchId'] === 'string' && { batchId: body['batchId'] }),
    ...(isObject(body) &&
      Array.isArray(body['measurements']) && { readings: body['measurements'].length }),
  };
};

/**
 * A failure reason from one structured (Powertools) log line at ERROR or WARN level: the
 * message and the error's name and text. Other lines give none.
 */
export const failureReasonOf = (line: string): string | undefined => {
  const entry = parseJson(line.slice(line.indexOf('{')));
  if (!isObject(entry)) return undefined;
  const level = String(entry['level'] ?? '').toUpperCase();
  if (level !== 'ERROR' && level !== 'WARN') return undefined;
  const error = entry['error'];
  const cause = isObject(error)
    ? `${String(error['name'] ?? 'Error')}: ${String(error['message'] ?? '')}`
    : undefined;
  return [String(entry['message'] ?? ''), cause].filter(Boolean).join(' — ');
};

export const summarizeDeadLetters = (input: {
  count: number;
  sample: readonly DeadLetter[];
  logLines: readonly string[];
}): DeadLetterReport => {
  const sample = input.sample.map(describeLetter);
  const sentTimes = sample.flatMap((letter) => (letter.sentAt ? [letter.sentAt] : [])).sort();
  const reasons = new Map<string, number>();
  for (const line of input.logLines) {
    const reason = failureReasonOf(line);
    if (reason !== undefined) reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  }
  return {
    count: input.count,
    ...(sentTimes[0] !== undefined && { oldestSampled: sentTimes[0] }),
    sample,
    failureReasons: [...reasons]
      .map(([reason, count]) => ({ reason, count }))
      .sort((a, b) => b.count - a.count)
      .slice(0, MAX_REASONS),
  };
};

export const formatReport = (report: DeadLetterReport): string => {
  const lines = [`Dead-letter queue: ${report.count} message(s)`];
  if (report.oldestSampled) lines.push(`Oldest sampled: sent ${report.oldestSampled}`);
  if (report.sample.length > 0) {
    lines.push(`Sample (${report.sample.length}):`);
    for (const letter of report.sample) {
      lines.push(
        `  ${letter.messageId}  sent ${letter.sentAt ?? '?'}  receives ${letter.receiveCount ?? '?'}  run ${letter.runId ?? '?'}  readings ${letter.readings ?? '?'}`,
      );
    }
  }
  lines.push(
    report.failureReasons.length > 0
      ? 'Failure reasons in the consumer logs:'
      : 'No failure reasons found in the consumer logs read.',
  );
  for (const { reason, count } of report.failureReasons) lines.push(`  ${count} × ${reason}`);
  return lines.join('\n');
};

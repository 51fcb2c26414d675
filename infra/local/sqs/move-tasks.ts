/**
 * SQS message move tasks (dead-letter queue redrive): StartMessageMoveTask,
 * ListMessageMoveTasks and CancelMessageMoveTask as AWS documents them. A task moves the
 * messages its dead-letter queue held when it started, oldest first, at most
 * MaxNumberOfMessagesPerSecond (1–500; as fast as the local endpoint can without it), back
 * to each message's original source queue or to DestinationArn. One active task per source
 * queue; the ten most recent are listed. Tasks live in memory: a restart of the endpoint
 * ends them (the messages they had not moved stay in the dead-letter queue).
 */
import { randomUUID } from 'node:crypto';
import { invalidParameterValue, SqsError, unsupportedOperation } from './errors.ts';
import type { Clock, Queue } from './queue.ts';
import type { QueueRegistry } from './registry.ts';

export type MoveTaskStatus = 'RUNNING' | 'COMPLETED' | 'CANCELLING' | 'CANCELLED' | 'FAILED';

export interface MoveTask {
  readonly taskHandle: string;
  readonly sourceArn: string;
  readonly destinationArn?: string;
  readonly maxNumberOfMessagesPerSecond?: number;
  readonly startedTimestamp: number;
  readonly approximateNumberOfMessagesToMove: number;
  approximateNumberOfMessagesMoved: number;
  status: MoveTaskStatus;
  failureReason?: string;
}

const TICK_MS = 100;
/** Messages a task without a rate moves per tick. */
const UNLIMITED_PER_TICK = 1_000;
/** MaxNumberOfMessagesPerSecond at most (AWS's limit). */
export const MAX_MOVE_RATE = 500;
const LISTED_TASKS = 10;

export const resourceNotFound = (message: string): SqsError =>
  new SqsError('ResourceNotFoundException', message, 'ResourceNotFoundException');

interface ActiveTask {
  task: MoveTask;
  /** Ids of the messages the dead-letter queue held at the start, still to move. */
  remaining: string[];
  timer: NodeJS.Timeout;
  /** Fractional messages earned by the rate but not yet moved. */
  credit: number;
}

export class MessageMoveTasks {
  private readonly tasks: MoveTask[] = [];
  private readonly active = new Map<string, ActiveTask>();

  constructor(
    private readonly queues: QueueRegistry,
    private readonly clock: Clock,
  ) {}

  start(options: {
    sourceArn: string;
    destinationArn?: string;
    maxNumberOfMessagesPerSecond?: number;
  }): MoveTask {
    const source = this.existing(options.sourceArn);
    const isDeadLetterQueue = this.queues
      .list()
      .some((queue) => queue.settings.redrivePolicy?.deadLetterTargetArn === source.arn);
    if (!isDeadLetterQueue) {
      throw invalidParameterValue(
        'Source queue must be configured as a Dead Letter Queue of another queue.',
      );
    }
    if (options.destinationArn !== undefined) {
      const destination = this.existing(options.destinationArn);
      if (destination === source) {
        throw invalidParameterValue('Source and destination queues must be different.');
      }
    }
    const rate = options.maxNumberOfMessagesPerSecond;
    if ([...this.active.values()].some(({ task }) => task.sourceArn === source.arn)) {
      throw unsupportedOperation(
        'StartMessageMoveTask: there is already a task running. Only one active task is allowed for a source queue arn at a given time.',
      );
    }
    const taskId = randomUUID();
    const remaining = [...source.held()].map((message) => message.messageId);
    const task: MoveTask = {
      taskHandle: Buffer.from(JSON.stringify({ taskId, sourceArn: source.arn })).toString('base64'),
      sourceArn: source.arn,
      ...(options.destinationArn !== undefined && { destinationArn: options.destinationArn }),
      ...(rate !== undefined && { maxNumberOfMessagesPerSecond: rate }),
      startedTimestamp: this.clock(),
      approximateNumberOfMessagesToMove: remaining.length,
      approximateNumberOfMessagesMoved: 0,
      status: 'RUNNING',
    };
    this.tasks.push(task);
    const timer = setInterval(() => this.step(task.taskHandle), TICK_MS);
    this.active.set(task.taskHandle, { task, remaining, timer, credit: 0 });
    return task;
  }

  /** The most recent tasks of a source queue, newest first. */
  list(sourceArn: string, maxResults = 1): MoveTask[] {
    const source = this.existing(sourceArn);
    return this.tasks
      .filter((task) => task.sourceArn === source.arn)
      .reverse()
      .slice(0, Math.min(maxResults, LISTED_TASKS));
  }

  /** Cancels a RUNNING task; what it moved stays moved. */
  cancel(taskHandle: string): MoveTask {
    const active = this.active.get(taskHandle);
    if (active === undefined) {
      if (this.tasks.some((task) => task.taskHandle === taskHandle)) {
        throw unsupportedOperation(
          'CancelMessageMoveTask: only a task in RUNNING status can be cancelled.',
        );
      }
      throw resourceNotFound(
        'The resource that you specified for the TaskHandle parameter does not exist.',
      );
    }
    active.task.status = 'CANCELLING';
    this.finish(active, 'CANCELLED');
    return active.task;
  }

  /** Ends every task (the endpoint is closing); unmoved messages stay where they are. */
  stopAll(): void {
    for (const active of [...this.active.values()]) this.finish(active, 'CANCELLED');
  }

  private existing(arn: string): Queue {
    const queue = this.queues.findByArn(arn);
    if (queue === undefined) {
      throw resourceNotFound(
        `The resource that you specified for the queue ${arn} does not exist.`,
      );
    }
    return queue;
  }

  private step(taskHandle: string): void {
    const active = this.active.get(taskHandle);
    if (active === undefined) return;
    const { task } = active;
    const source = this.queues.findByArn(task.sourceArn);
    if (source === undefined) {
      this.fail(active, 'The source queue was deleted.');
      return;
    }
    const rate = task.maxNumberOfMessagesPerSecond;
    active.credit += rate === undefined ? UNLIMITED_PER_TICK : (rate * TICK_MS) / 1000;
    const stillInFlight: string[] = [];
    while (active.credit >= 1 && active.remaining.length > 0) {
      const messageId = active.remaining.shift() as string;
      const message = source.peek(messageId);
      if (message === undefined) continue; // deleted or expired since the task started
      const destinationArn = task.destinationArn ?? message.deadLetterQueueSourceArn;
      const destination =
        destinationArn === undefined ? undefined : this.queues.findByArn(destinationArn);
      if (destination === undefined) {
        this.fail(
          active,
          `The destination queue ${destinationArn ?? '(original source unknown)'} does not exist.`,
        );
        return;
      }
      const outcome = source.moveTo(messageId, destination);
      if (outcome === 'inFlight') {
        stillInFlight.push(messageId);
        continue;
      }
      if (outcome === 'moved') {
        task.approximateNumberOfMessagesMoved += 1;
        active.credit -= 1;
      }
    }
    // Messages being received from the dead-letter queue are moved once they are visible.
    active.remaining.push(...stillInFlight);
    if (active.remaining.length === 0) this.finish(active, 'COMPLETED');
    else active.credit = Math.min(active.credit, UNLIMITED_PER_TICK);
  }

  private fail(active: ActiveTask, reason: string): void {
    active.task.failureReason = reason;
    this.finish(active, 'FAILED');
  }

  private finish(active: ActiveTask, status: MoveTaskStatus): void {
    clearInterval(active.timer);
    active.task.status = status;
    this.active.delete(active.task.taskHandle);
  }
}

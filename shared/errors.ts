/**
 * Typed domain errors. Services throw these; `toErrorResponse` in #shared/http.ts is the one
 * place that maps them to HTTP. Anything else becomes a generic 500.
 */

export interface ErrorDetail {
  /** Where the problem is, e.g. `measurements[3].reading` or `duration`. */
  field?: string;
  message: string;
}

export class DomainError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly details: ErrorDetail[] = [],
    /** Extra top-level fields of the error body (e.g. `currentRunning` on a 409). */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class BadRequestError extends DomainError {
  constructor(message: string, details: ErrorDetail[] = []) {
    super(400, message, details);
  }
}

export class NotFoundError extends DomainError {
  constructor(message: string) {
    super(404, message);
  }
}

export class MethodNotAllowedError extends DomainError {
  constructor(message: string, allowed: string[]) {
    super(405, message, [], { allowed });
  }
}

export class ConflictError extends DomainError {
  constructor(message: string, extra: Record<string, unknown> = {}) {
    super(409, message, [], extra);
  }
}

export class PayloadTooLargeError extends DomainError {
  constructor(message: string) {
    super(413, message);
  }
}

export class ForbiddenError extends DomainError {
  constructor(message: string) {
    super(403, message);
  }
}

/** A dependency refused or failed; the client may retry. */
export class ServiceUnavailableError extends DomainError {
  constructor(message: string, details: ErrorDetail[] = []) {
    super(503, message, details);
  }
}

import type { ErrorBody, ErrorCode } from '../../protocol/errors.ts';

export type ErrorDetail = NonNullable<ErrorBody['error']['details']>[number];

/** The one error type a handler throws to answer with DESIGN.md's error shape. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly details?: ErrorDetail[],
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

import type { ApiErrorBody, ApiErrorCode } from '../../api/contract.js';

/** An error whose message is meant for the user; transports send it as it is. */
export class ApiError extends Error {
  constructor(
    readonly code: ApiErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Turns anything thrown by a handler into the wire form, keeping messages people can read. */
export function toErrorBody(err: unknown): ApiErrorBody {
  if (err instanceof ApiError) return { code: err.code, message: err.message };
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'failed', message };
}

import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { logger } from '../../adapters/logger.ts';
import { HttpError } from '../http-error.ts';
import { jsonResponse } from '../json-response.ts';

/** The one place errors become responses: DESIGN.md's shape, no internal detail ever leaves. */
export function errorResponse(): MiddlewareObj<unknown, APIGatewayProxyStructuredResultV2> {
  return {
    name: 'errorResponse',
    onError: (request) => {
      const error = request.error;
      if (error instanceof HttpError) {
        logger.info('request refused', { status: error.status, code: error.code, why: error.message });
        request.response = jsonResponse(
          error.status,
          { error: { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) } },
          error.headers,
        );
        return;
      }
      if (error instanceof Error) logger.error('request failed', error);
      else logger.error('request failed', { error: String(error) });
      request.response = jsonResponse(500, { error: { code: 'internal', message: 'internal error' } });
    },
  };
}

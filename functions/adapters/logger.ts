import { Logger } from '@aws-lambda-powertools/logger';

/** One logger for the witness. Level from POWERTOOLS_LOG_LEVEL (default INFO). */
export const logger = new Logger({ serviceName: 'tiebreak-witness' });

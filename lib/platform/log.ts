/**
 * Structured JSON logging (Powertools Logger). Phone numbers go through `maskPhone`
 * (lib/ledger/phone.ts); tokens and signatures are never passed to the logger.
 */
import { Logger } from '@aws-lambda-powertools/logger';

/** `POWERTOOLS_SERVICE_NAME` (serverless.yml sets the service's name), read once for logs and metrics. */
export const SERVICE_NAME = process.env.POWERTOOLS_SERVICE_NAME?.trim() || 'missed-call-ledger';

export const logger = new Logger({ serviceName: SERVICE_NAME });

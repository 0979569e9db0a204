/**
 * The operator API's routes (API key): `GET /stats`, `GET /contacts`, `GET /contacts/{phone}`,
 * `GET /health`. Returns the HTTP reply; throws the errors that lib/platform/http.ts maps.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { getContact, listContacts, parseListQuery } from '../contacts/api.js';
import { operatorPhone } from '../ledger/phone.js';
import { HttpError, type HttpRequest, queryParameters } from '../platform/request.js';
import type { TwilioCallsFactory } from '../twilio/client.js';
import type { OperatorConfig } from './config.js';
import { checkHealth } from './health.js';
import { readStats, statsRange } from './stats.js';

export interface OperatorDeps {
  config: OperatorConfig;
  documents: DynamoDBDocumentClient;
  dynamo: DynamoDBClient;
  twilioCalls: TwilioCallsFactory;
  now?: () => Date;
}

const json = (statusCode: number, body: unknown) => ({
  statusCode,
  headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' },
  body: JSON.stringify(body),
});

export async function handleOperator(request: HttpRequest, deps: OperatorDeps) {
  const { config } = deps;
  if (request.method !== 'GET') throw new HttpError(405, `${request.route} accepts GET only`);
  const query = queryParameters(request.query);
  switch (request.route) {
    case '/stats':
      return json(200, await readStats(deps.documents, config.tableName, statsRange(query, deps.now?.() ?? new Date())));
    case '/contacts':
      return json(200, await listContacts(deps.documents, config.tableName, parseListQuery(query)));
    case '/contacts/{phone}': {
      const phone = operatorPhone(request.pathParameters.phone ?? '', config.defaultCountry);
      if (phone === undefined) throw new HttpError(400, 'phone is not a valid phone number');
      const contact = await getContact(deps.documents, config.tableName, phone);
      if (contact === undefined) throw new HttpError(404, 'No contact with this number');
      return json(200, contact);
    }
    case '/health': {
      // A health check answers fast: one attempt, 3 s.
      const report = await checkHealth({
        dynamo: deps.dynamo,
        tableName: config.tableName,
        twilio: () => deps.twilioCalls({ maxAttempts: 1, timeoutMs: 3_000 }),
      });
      return json(report.status === 'ok' ? 200 : 503, report);
    }
    default:
      throw new HttpError(404, `No route ${request.route.slice(0, 80)}`);
  }
}

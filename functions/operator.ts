/** The operator API (API key): stats, contacts and health. */

import { isSupportedCountry } from 'libphonenumber-js';
import { documents, dynamo, logSdkVersionAtColdStart, ssm } from '../lib/platform/aws.js';
import { ConfigError, parseReconcileConfig } from '../lib/platform/config.js';
import { getContact, listContacts, normalizePhone, parseListQuery } from '../lib/contacts/api.js';
import { checkHealth } from '../lib/operator/health.js';
import { httpStack } from '../lib/platform/http.js';
import { BadRequestError, queryParameters, toHttpRequest } from '../lib/platform/request.js';
import { authTokenResolver } from '../lib/platform/secrets.js';
import { readStats, statsRange } from '../lib/operator/stats.js';
import { createTwilioCalls } from '../lib/twilio/client.js';

// The same table and Twilio credentials as the reconciliation.
const config = parseReconcileConfig(process.env);
logSdkVersionAtColdStart();
const secret = authTokenResolver(config.twilioSecret, ssm);
const defaultCountry = process.env.DEFAULT_COUNTRY?.trim() || 'US';
if (!isSupportedCountry(defaultCountry)) throw new ConfigError(`DEFAULT_COUNTRY must be an ISO 3166 country code, got "${defaultCountry}"`);

const json = (statusCode: number, body: unknown) => ({
  statusCode,
  headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' },
  body: JSON.stringify(body),
});

export const handler = httpStack(async (event) => {
  const request = toHttpRequest(event);
  if (request.method !== 'GET') throw new BadRequestError(405, `${request.route} accepts GET only`);
  const query = queryParameters(request.query);
  switch (request.route) {
    case '/stats':
      return json(200, await readStats(documents(), config.tableName, statsRange(query, new Date())));
    case '/contacts':
      return json(200, await listContacts(documents(), config.tableName, parseListQuery(query)));
    case '/contacts/{phone}': {
      const phone = normalizePhone(request.pathParameters.phone ?? '', defaultCountry);
      const contact = await getContact(documents(), config.tableName, phone);
      if (contact === undefined) throw new BadRequestError(404, 'No contact with this number');
      return json(200, contact);
    }
    case '/health': {
      const report = await checkHealth({
        dynamo: dynamo(),
        tableName: config.tableName,
        twilio: async () => {
          const [password = ''] = await secret();
          // A health check answers fast: one attempt, 3 s.
          return createTwilioCalls({
            accountSid: config.accountSid,
            username: config.twilioUsername,
            password,
            baseUrl: config.twilioApiBaseUrl,
            maxAttempts: 1,
            timeoutMs: 3_000,
          });
        },
      });
      return json(report.status === 'ok' ? 200 : 503, report);
    }
    default:
      throw new BadRequestError(404, `No route ${request.route.slice(0, 80)}`);
  }
});

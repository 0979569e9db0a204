/** The operator dashboard: its page and assets (no API key; the page asks for it). */
import assets from 'virtual:dashboard-assets';
import { createDashboard } from '../lib/dashboard/serve.js';
import { optional } from '../lib/platform/config.js';
import { httpStack } from '../lib/platform/http.js';
import { toHttpRequest } from '../lib/platform/request.js';

const serve = createDashboard(assets, { defaultCountry: optional(process.env, 'DEFAULT_COUNTRY') ?? 'US' });

export const handler = httpStack(async (event) => serve(toHttpRequest(event)));

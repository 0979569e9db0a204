/** The operator dashboard: its page, its assets and where people sign in (no key, no token). */
import assets from 'virtual:dashboard-assets';
import { readAuthConfig } from '../lib/auth/config.js';
import { createDashboard } from '../lib/dashboard/serve.js';
import { optional } from '../lib/platform/config.js';
import { httpStack } from '../lib/platform/http.js';
import { toHttpRequest } from '../lib/platform/request.js';

const auth = readAuthConfig(process.env);
const serve = createDashboard(assets, { defaultCountry: optional(process.env, 'DEFAULT_COUNTRY') ?? 'US', ...(auth ? { auth } : {}) });

export const handler = httpStack(async (event) => serve(toHttpRequest(event)));

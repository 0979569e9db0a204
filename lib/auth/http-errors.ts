/** Who-is-calling errors as HTTP replies (composed by lib/platform/http.ts `httpStack`). */
import { type ErrorMapper, exposed } from '../platform/http.js';
import { ForbiddenError, UnauthenticatedError } from './caller.js';

/** 401 with `WWW-Authenticate: Bearer` (RFC 6750), 403 for a known caller without the right. */
export const authErrors: ErrorMapper = (error) => {
  if (error instanceof UnauthenticatedError) return exposed(401, error.message, { 'WWW-Authenticate': 'Bearer realm="operator"' });
  if (error instanceof ForbiddenError) return exposed(403, error.message);
  return undefined;
};

/**
 * The embedded defaults of the local stack: no AWS account, no Twilio account. The auth
 * token and the admin's password here are local fixtures, not secrets; real tokens live in SSM
 * Parameter Store, real people in the stack's Cognito user pool.
 */
export const LOCAL_DEFAULTS = {
  PORT: '3000',
  PUBLIC_BASE_URL: '',
  TWILIO_ACCOUNT_SID: 'AC00000000000000000000000000000001',
  TWILIO_AUTH_TOKEN: 'local-auth-token-0000000000000000',
  RETENTION_DAYS: '90',
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
  /** The first admin of the local user pool (issue 30): sign in to the dashboard with these. */
  LOCAL_ADMIN_EMAIL: 'admin@example.com',
  LOCAL_ADMIN_PASSWORD: 'Local-admin-2026',
  /** The people's API key (public: the page gets it from GET /auth/config). */
  PEOPLE_API_KEY: 'people-local-dashboard-key',
} as const;

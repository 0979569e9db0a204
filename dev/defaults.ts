/**
 * The embedded defaults of the local stack: no AWS account, no Twilio account. The auth
 * token here is a local fixture, not a secret; real tokens live in SSM Parameter Store.
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
} as const;

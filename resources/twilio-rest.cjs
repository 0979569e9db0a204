// The ONE Twilio credential of the REST API (the reconciliation, GET /health and the contacts
// function's check of late misses), chosen at
// package time: with TWILIO_API_KEY_SID set, that API key and its secret's SSM parameter;
// otherwise the account SID and the auth token's parameter. The functions get only this
// parameter's name and their roles may read only it (a role that may not read a parameter gets
// AccessDeniedException from SSM, not ParameterNotFound).
module.exports = async ({ resolveVariable }) => {
  const apiKeySid = (process.env.TWILIO_API_KEY_SID ?? '').trim();
  if (apiKeySid !== '' && !/^SK[0-9a-fA-F]{32}$/.test(apiKeySid)) {
    throw new Error('TWILIO_API_KEY_SID must look like SK followed by 32 hex digits');
  }
  const secretParameter = await resolveVariable(apiKeySid === '' ? 'self:custom.authTokenParameter' : 'self:custom.apiKeySecretParameter');
  return { apiKeySid, secretParameter };
};

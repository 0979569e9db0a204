// The text-back settings, checked at package time with the same code the function runs at cold
// start (lib/textback/settings.ts, loaded through tsx): a bad TIME_ZONE or BUSINESS_HOURS fails
// `osls package` and deploy with its name instead of deploying a function that cannot start.
// Returns the values serverless.yml puts in the textback function's environment, and the state of
// its rule: disabled when TEXT_BACK is off (the function then exists but is never invoked).
module.exports = async () => {
  const { register } = require('tsx/cjs/api');
  const unregister = register();
  try {
    const { readTextBackSettings } = require('../lib/textback/settings.ts');
    const s = readTextBackSettings(process.env);
    return {
      enabled: s.enabled ? 'on' : 'off',
      // The state of its rule on the event bus (TextBackRule).
      ruleState: s.enabled ? 'ENABLED' : 'DISABLED',
      message: s.message,
      afterHoursMessage: s.afterHoursMessage,
      businessHours: s.hoursText,
      timeZone: s.timeZone,
      cooldownHours: String(s.cooldownHours),
      maxAgeMinutes: String(s.maxAgeMinutes),
      messagingServiceSid: s.messagingServiceSid ?? '',
    };
  } finally {
    unregister();
  }
};

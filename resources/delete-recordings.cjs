// DELETE_RECORDINGS (default true), checked at package time with the same code the function runs
// at cold start (lib/recordings/config.ts, loaded through tsx): anything but true/false fails
// `osls package` with its name. Returns the function's setting and the state of its rule:
// disabled when false (the function then exists but is never invoked).
module.exports = async () => {
  const { register } = require('tsx/cjs/api');
  const unregister = register();
  try {
    const { readDeleteRecordings } = require('../lib/recordings/config.ts');
    const enabled = readDeleteRecordings(process.env);
    return { enabled: enabled ? 'true' : 'false', ruleState: enabled ? 'ENABLED' : 'DISABLED' };
  } finally {
    unregister();
  }
};

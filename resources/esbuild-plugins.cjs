// serverless-esbuild's plugins (custom.esbuild.plugins): the dashboard's assets, built from web/,
// the contacts function's Twilio client in a file of its own (resources/twilio-apart.cjs) and
// @middy/core's `node:stream/web` loaded only if a response streams (resources/middy-stream-web.cjs).
// bench/build.ts builds with the same list.
const { dashboardAssetsPlugin } = require('../web/build.cjs');
const { twilioApartPlugin } = require('./twilio-apart.cjs');
const { middyStreamWebPlugin } = require('./middy-stream-web.cjs');

module.exports = [dashboardAssetsPlugin(), twilioApartPlugin(), middyStreamWebPlugin()];

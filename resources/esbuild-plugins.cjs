// serverless-esbuild's plugins (custom.esbuild.plugins): the dashboard's assets, built from web/,
// and the contacts function's Twilio client in a file of its own (resources/twilio-apart.cjs).
const { dashboardAssetsPlugin } = require('../web/build.cjs');
const { twilioApartPlugin } = require('./twilio-apart.cjs');

module.exports = [dashboardAssetsPlugin(), twilioApartPlugin()];

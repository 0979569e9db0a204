// serverless-esbuild's plugins (custom.esbuild.plugins): the dashboard's assets, built from web/.
const { dashboardAssetsPlugin } = require('../web/build.cjs');

module.exports = [dashboardAssetsPlugin()];

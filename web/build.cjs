// The dashboard's static assets, built by esbuild from web/ into memory: the page's script and
// stylesheet under content-hashed names, and the HTML shell that names them. The dashboard
// function imports them as the virtual module `virtual:dashboard-assets` (the plugin below, which
// serverless.yml gives serverless-esbuild), so every `osls package`, `osls offline` and deploy
// builds the page from the sources it ships with: nothing is generated on disk, nothing is stale.
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { gzipSync } = require('node:zlib');

const root = join(__dirname, '..');

/** The budget of the page's assets, gzipped, in bytes (issue 16). */
const BUDGET_GZIP_BYTES = 150 * 1024;

const CONTENT_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/**
 * Builds the assets with `esbuild` (the caller's instance: a plugin passes its own).
 * @returns {Promise<{ name: string, contentType: string, body: string }[]>} index.html first.
 */
async function buildDashboard(esbuild) {
  const result = await esbuild.build({
    entryPoints: { app: join(root, 'web/main.tsx') },
    absWorkingDir: root,
    bundle: true,
    minify: true,
    format: 'esm',
    // Browsers of the last few years (module scripts); nothing is polyfilled.
    target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    outdir: join(root, 'web/.out'),
    entryNames: '[name]-[hash]',
    write: false,
    logLevel: 'silent',
  });
  const assets = (result.outputFiles ?? []).map((file) => {
    const name = file.path.slice(file.path.lastIndexOf('/') + 1);
    const ext = name.slice(name.lastIndexOf('.'));
    const contentType = CONTENT_TYPES[ext];
    if (contentType === undefined) throw new Error(`dashboard build: unexpected output ${name}`);
    return { name, contentType, body: file.text };
  });
  const script = assets.find((a) => a.name.endsWith('.js'));
  const style = assets.find((a) => a.name.endsWith('.css'));
  if (script === undefined || style === undefined) throw new Error('dashboard build: no script or no stylesheet');
  const html = readFileSync(join(root, 'web/index.html'), 'utf8')
    .replace('%SCRIPT%', `dashboard/${script.name}`)
    .replace('%STYLE%', `dashboard/${style.name}`);
  return [{ name: 'index.html', contentType: CONTENT_TYPES['.html'], body: html }, ...assets];
}

/** Each asset's size raw and gzipped (level 9, as a CDN or API Gateway's compression would send it). */
function assetSizes(assets) {
  return assets.map(({ name, body }) => ({
    name,
    bytes: Buffer.byteLength(body),
    gzipBytes: gzipSync(body, { level: 9 }).length,
  }));
}

/** The esbuild plugin that answers `import assets from 'virtual:dashboard-assets'`. */
function dashboardAssetsPlugin() {
  return {
    name: 'dashboard-assets',
    setup(build) {
      build.onResolve({ filter: /^virtual:dashboard-assets$/ }, (args) => ({ path: args.path, namespace: 'dashboard-assets' }));
      build.onLoad({ filter: /.*/, namespace: 'dashboard-assets' }, async () => {
        const assets = await buildDashboard(build.esbuild);
        const gzip = assetSizes(assets).reduce((sum, a) => sum + a.gzipBytes, 0);
        if (gzip > BUDGET_GZIP_BYTES) throw new Error(`dashboard assets are ${gzip} bytes gzipped; the budget is ${BUDGET_GZIP_BYTES}`);
        return { contents: `export default ${JSON.stringify(assets)};`, loader: 'js', resolveDir: root };
      });
    },
  };
}

module.exports = { BUDGET_GZIP_BYTES, buildDashboard, assetSizes, dashboardAssetsPlugin };

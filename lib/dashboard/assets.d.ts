/** The dashboard's built assets (web/build.cjs's esbuild plugin; index.html first). */
declare module 'virtual:dashboard-assets' {
  const assets: readonly import('./serve.js').DashboardAsset[];
  export default assets;
}

import { build } from 'esbuild';

const [dir, fn] = process.argv.slice(2);
const r = await build({
  entryPoints: [`${dir}/functions/${fn}.ts`],
  bundle: true,
  minify: true,
  platform: 'node',
  target: 'node22',
  format: 'cjs',
  external: ['@aws-sdk/*'],
  write: false,
  metafile: true,
  logLevel: 'silent',
  absWorkingDir: dir,
});
const out = Object.values(r.metafile.outputs)[0];
for (const [k, v] of Object.entries(out.inputs)) if (!k.includes('node_modules')) console.log(v.bytesInOutput, k);
console.log('TOTAL', out.bytes);

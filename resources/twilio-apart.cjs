// An esbuild plugin: the contacts function's Twilio client (lib/twilio/client.ts: the SDK's Calls
// slice and axios, ~0.9 MB minified) goes into a file of its own that the function requires on
// its first late miss only. In one file with the rest, Node parses it at every cold start (the
// contacts init was 1.44-1.50x the bare DynamoDB client's; docs/BENCHMARKS.md).
//
// The file is written as `__only_contacts/functions/twilio-client.cjs` beside the build:
// serverless-esbuild zips what is under `__only_<function>/` into that function's package only,
// without the prefix, so in Lambda it sits next to the bundle (`./twilio-client.cjs`); where the
// build directory itself runs (serverless-offline) it is found under the prefix. Only
// `import('../lib/twilio/client.js')` from functions/contacts.ts is moved: the functions that
// call Twilio on every run keep the client bundled.
const { dirname, join } = require('node:path');

const FILE = 'twilio-client.cjs';
const ONLY = '__only_contacts/functions';
const isContacts = (path) => /functions[\\/]contacts\.ts$/.test(path);

function twilioApartPlugin() {
  return {
    name: 'contacts-twilio-apart',
    setup(build) {
      const entries = [].concat(build.initialOptions.entryPoints ?? []).map(String);
      if (!entries.some(isContacts)) return;
      build.onResolve({ filter: /[\\/]twilio[\\/]client\.js$/ }, (args) =>
        args.kind === 'dynamic-import' && isContacts(args.importer) ? { path: 'twilio-client', namespace: 'twilio-apart' } : undefined,
      );
      // Loaded (and parsed) when first imported: beside the bundle in Lambda, under the prefix locally.
      build.onLoad({ filter: /.*/, namespace: 'twilio-apart' }, () => ({
        loader: 'js',
        contents: `try { module.exports = require('./${FILE}'); } catch (error) {
  if (error === null || typeof error !== 'object' || error.code !== 'MODULE_NOT_FOUND') throw error;
  module.exports = require('../${ONLY}/${FILE}');
}`,
      }));
      build.onResolve({ filter: /twilio-client\.cjs$/, namespace: 'twilio-apart' }, (args) => ({ path: args.path, external: true }));
      build.onEnd(async (result) => {
        if (result.errors.length > 0 || build.initialOptions.write === false) return;
        const { outdir, outfile, external, target, minify, platform } = build.initialOptions;
        const bundleDir = outdir ?? dirname(outfile);
        await build.esbuild.build({
          entryPoints: [join(__dirname, '..', 'lib', 'twilio', 'client.ts')],
          outfile: join(bundleDir, '..', ONLY, FILE),
          bundle: true,
          format: 'cjs',
          platform: platform ?? 'node',
          target,
          minify,
          external,
          logLevel: 'silent',
        });
      });
    },
  };
}

module.exports = { twilioApartPlugin, FILE, ONLY };

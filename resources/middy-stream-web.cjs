// An esbuild plugin: @middy/core imports `node:stream/web` for one `instanceof ReadableStream`
// in its streamed-response branch (`streamifyResponse`), which none of our functions use. Loading
// that module is 0.6-0.7 ms of the cold start of each function that uses middy (docs/BENCHMARKS.md),
// out of the 11 ms the webhook's init may add over the bare DynamoDB client's. Here `@middy/core`
// gets a ReadableStream whose `instanceof` loads the real module on first use: the same answer,
// loaded only when asked.
const LAZY = `let web;
class ReadableStream {
  static [Symbol.hasInstance](value) {
    web ??= require('node:stream/web');
    return value instanceof web.ReadableStream;
  }
}
module.exports = { ReadableStream };`;

function middyStreamWebPlugin() {
  return {
    name: 'middy-stream-web-on-use',
    setup(build) {
      build.onResolve({ filter: /^node:stream\/web$/ }, (args) =>
        /[\\/]node_modules[\\/]@middy[\\/]core[\\/]/.test(args.importer)
          ? { path: 'stream-web', namespace: 'middy-stream-web' }
          : undefined,
      );
      build.onLoad({ filter: /.*/, namespace: 'middy-stream-web' }, () => ({ loader: 'js', contents: LAZY }));
    },
  };
}

module.exports = { middyStreamWebPlugin, LAZY };

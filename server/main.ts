/**
 * The reference server: an OpenAI Chat Completions compatible endpoint serving an embedded model
 * (transformers.js on onnxruntime-node). `npm run server -- --help` lists the flags.
 */
import { parseConfig, USAGE, type ServerConfig } from './config';
import { startServer } from './start';
import { errorText } from '../src/lib/errors';

const log = (line: string) => console.log(`[slm-server] ${line}`);

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return;
  }
  let config: ServerConfig;
  try {
    config = parseConfig(argv);
  } catch (e) {
    console.error(`[slm-server] ${errorText(e)}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  const requestLog = config.quiet ? () => {} : log;
  const server = await startServer({ ...config, log: (line) => (line.startsWith('chatcmpl-') ? requestLog(line) : log(line)) });
  const origins = config.origins.any ? 'any origin' : [config.origins.localhost ? 'localhost origins' : '', ...config.origins.exact].filter(Boolean).join(', ');
  log(`listening on ${server.baseURL} (model ${server.model.id}; ${config.apiKey ? 'API key required' : 'no API key'}; CORS: ${origins || 'none'})`);
  const stop = (signal: string) => {
    log(`${signal}: shutting down`);
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

main().catch((e: unknown) => {
  console.error(`[slm-server] ${errorText(e)}`);
  process.exit(1);
});

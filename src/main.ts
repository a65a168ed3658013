import 'dotenv/config';
import { type Config, ConfigError, loadConfig } from './config/config.ts';
import { createLogger } from './log/logger.ts';
import { startServer } from './server.ts';

// The process entry: `npm start`. Reads configuration once, starts, and shuts down gracefully.
async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel, undefined, { format: config.logFormat, env: config.env });
  const server = await startServer(config, logger);
  logger.info({ url: `${server.url}/graphql`, graphiql: config.graphiql }, 'Gatehouse is listening');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal during shutdown: exiting now');
      process.exit(1);
    }
    stopping = true;
    const timeoutSeconds = config.shutdown.timeoutSeconds;
    logger.info({ signal, timeoutSeconds }, 'shutting down');
    // Whatever still runs at the deadline (a request past it, a mail to a silent SMTP server)
    // does not keep the process: an orchestrator's own kill would be less orderly.
    setTimeout(() => {
      logger.warn({ timeoutSeconds }, 'shutdown did not finish within SHUTDOWN_TIMEOUT: exiting anyway');
      process.exit(1);
    }, timeoutSeconds * 1000).unref();
    try {
      await server.close();
    } catch (error) {
      logger.error({ err: error }, 'error during shutdown');
      process.exit(1);
    }
    logger.info('shut down');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((error: unknown) => {
  process.stderr.write(`Gatehouse failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});

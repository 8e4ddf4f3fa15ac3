import type { Command } from 'commander';
import { startUiServer } from '../../server/ui-server.js';

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('Serve the app and its API on 127.0.0.1, to use it in a browser')
    .option('-p, --port <port>', 'port (0 picks a free one)', '5199')
    .action(async (opts: { port: string }) => {
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`"${opts.port}" is not a port number.`);
      const server = await startUiServer({ port });
      console.log(`FAS Spiking LLM is running at ${server.url}  (Ctrl+C to stop)`);
    });
}

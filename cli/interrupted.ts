/** A run stopped by SIGINT/SIGTERM: the CLI prints the message and exits 130. */
export class Interrupted extends Error {
  constructor(readonly outDir: string, signal: NodeJS.Signals = 'SIGINT', message?: string) {
    super(message ?? `${signal}: stopped; the run in ${outDir} is marked cancelled and its newest checkpoint is kept (continue with engram memorize --resume ${outDir})`);
  }
}

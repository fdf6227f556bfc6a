/**
 * Resolves with the first SIGINT or SIGTERM. A second signal while the caller is still shutting down exits
 * at once (code 130), so a stuck shutdown never traps the user.
 */
export function waitForShutdownSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      const forceExit = (): never => process.exit(130);
      process.once('SIGINT', forceExit);
      process.once('SIGTERM', forceExit);
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

// A server of the dev stack cannot take its port: main prints the one line, naming the option to change.

/** A server that cannot take its port: one line naming the option that picks another. */
export class PortInUseError extends Error {
  readonly code = 'PORT_IN_USE';

  constructor(message: string, option: string, options?: ErrorOptions) {
    super(
      `${message}. Pick another port with ${option} (0 picks a free one), or stop what holds it.`,
      options,
    );
    this.name = 'PortInUseError';
  }
}

export function isAddressInUse(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'EADDRINUSE';
}

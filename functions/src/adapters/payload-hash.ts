/**
 * The SigV4 payload hash of an S3 request, given instead of computed: the
 * SDK's signer otherwise hashes every byte of a buffer body with SHA-256
 * (one more pass over the data). Either the hash is known already, or the
 * body carries a checksum S3 verifies (CRC32, SHA-256) and the signature
 * need not cover it: `UNSIGNED-PAYLOAD`, as S3 allows over TLS.
 */
/** The build step's arguments, as far as this middleware reads them (the SDK's BuildHandlerArguments). */
interface BuildArguments {
  input: object;
  request: unknown;
}

type AddBuildMiddleware = (middleware: (next: (args: BuildArguments) => Promise<unknown>) => (args: BuildArguments) => Promise<unknown>, options: { step: 'build'; name: string }) => void;

/** Any SDK command (its middleware stack's `add` is overloaded per step, and differs between SDK versions). */
interface BuildMiddlewareHost {
  middlewareStack: { add: (...args: never[]) => void };
}

export const unsignedPayload = 'UNSIGNED-PAYLOAD';

/** Signs `command` with `payloadHash` (hex SHA-256 of the body, or `unsignedPayload`) as its payload hash. */
export function signPayloadAs<C extends BuildMiddlewareHost>(command: C, payloadHash: string): C {
  const add = command.middlewareStack.add.bind(command.middlewareStack) as unknown as AddBuildMiddleware;
  add(
    (next) => (args) => {
      const request = args.request as { headers?: Record<string, string> };
      if (request.headers) request.headers['x-amz-content-sha256'] = payloadHash;
      return next(args);
    },
    { step: 'build', name: 'givenPayloadHash' },
  );
  return command;
}

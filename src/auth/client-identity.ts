import { type ExecutionContext, createParamDecorator } from '@nestjs/common';

/** Who a stream belongs to, as the identity guard established it. */
export interface ClientIdentity {
  readonly clientId: string;
  /** When the token it came from expires (epoch ms); the stream ends then. */
  readonly expiresAt?: number;
  /** The topics it may subscribe to (exact names or `prefix*`); undefined: every topic. */
  readonly topics?: readonly string[];
}

const IDENTITY = Symbol('sse-bus:identity');

export function setClientIdentity(request: object, identity: ClientIdentity): void {
  (request as { [IDENTITY]?: ClientIdentity })[IDENTITY] = identity;
}

/** The `ClientIdentity` of the request; use behind `ClientIdentityGuard`. */
export const Client = createParamDecorator(
  (_: unknown, context: ExecutionContext): ClientIdentity | undefined =>
    context.switchToHttp().getRequest<{ [IDENTITY]?: ClientIdentity }>()[IDENTITY],
);

import { randomUUID } from 'node:crypto';
import {
  type CanActivate,
  type ExecutionContext,
  Inject,
  Injectable,
  UnauthorizedException,
} from '@nestjs/common';
import { jwtVerify } from 'jose';
import { ClientGate } from '../bus/client-gate.js';
import { clientIdProblem } from '../bus/message-validation.js';
import { type ResolvedSseBusOptions, SSE_BUS_OPTIONS } from '../config/sse-bus.options.js';
import { setClientIdentity } from './client-identity.js';
import { type TokenCarrier, requestToken } from './request-token.js';

/**
 * Establishes who opens a stream. Anonymous by default: a fresh random id per connection, and
 * every topic open. With a JWT secret, the `sub` of a valid HS256 token and the topics its
 * `topics` claim grants, and 401 before any stream byte otherwise, a token of a client whose
 * tokens were revoked (`MessageBus.disconnect` with `revokeTokens`) included when it was issued
 * (`iat`, in seconds) no later than the revocation.
 * A client id given any other way (`?clientId=`) is never trusted.
 */
@Injectable()
export class ClientIdentityGuard implements CanActivate {
  private readonly secret: Uint8Array | undefined;

  constructor(
    @Inject(SSE_BUS_OPTIONS) private readonly options: ResolvedSseBusOptions,
    private readonly gate: ClientGate,
  ) {
    this.secret = options.jwtSecret ? new TextEncoder().encode(options.jwtSecret) : undefined;
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<TokenCarrier>();
    if (!this.secret) {
      setClientIdentity(request, { clientId: randomUUID() });
      return true;
    }
    const token = requestToken(request, this.options.jwtCookie);
    if (!token) {
      throw new UnauthorizedException(
        `A token is required: Authorization: Bearer, ?token= or the ${this.options.jwtCookie} cookie`,
      );
    }
    // Only HS256: a token that names another algorithm, "none" included, is refused.
    const payload = await jwtVerify(token, this.secret, {
      algorithms: ['HS256'],
      requiredClaims: this.options.jwtRequireExp ? ['exp'] : [],
    }).then(
      (verified) => verified.payload,
      (err: { claim?: string; reason?: string }) => {
        if (err.claim === 'exp' && err.reason === 'missing') {
          throw new UnauthorizedException('The token has no exp claim: tokens must expire');
        }
        throw new UnauthorizedException('The token is invalid or expired');
      },
    );
    const problem = clientIdProblem(payload.sub);
    if (problem) throw new UnauthorizedException(`The token's sub is not usable: ${problem}`);
    const revokedUpTo = await this.gate.revokedUpTo(payload.sub as string);
    if (revokedUpTo !== undefined && (payload.iat ?? 0) * 1000 <= revokedUpTo) {
      throw new UnauthorizedException('The token was revoked: a token issued since is required');
    }
    // Without the claim, a token grants no topic.
    const topics = payload[this.options.jwtTopicsClaim] ?? [];
    if (!Array.isArray(topics) || !topics.every((topic) => typeof topic === 'string')) {
      throw new UnauthorizedException(
        `The token's ${this.options.jwtTopicsClaim} claim must be an array of strings`,
      );
    }
    setClientIdentity(request, {
      clientId: payload.sub as string,
      expiresAt: payload.exp === undefined ? undefined : payload.exp * 1000,
      topics,
    });
    return true;
  }
}

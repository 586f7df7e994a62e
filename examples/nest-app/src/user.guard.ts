import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import type { StreamRequest } from 'sse-bus';

export type UserRequest = StreamRequest & {
  query: Record<string, unknown>;
  user?: string;
};

/**
 * Stands in for the app's real authentication (a session, a JWT strategy): the user is
 * `?user=`, which an `EventSource` can send where it cannot set headers. Without one: 403.
 */
@Injectable()
export class UserGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<UserRequest>();
    const { user } = request.query;
    if (typeof user !== 'string' || user === '') return false;
    request.user = user;
    return true;
  }
}

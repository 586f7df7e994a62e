import { Controller, Get, Query, UseFilters, UseGuards } from '@nestjs/common';
import { PublishTokenGuard } from '../auth/bearer-token.guard.js';
import { BusErrorFilter } from '../http/bus-error.filter.js';
import { Presence } from './presence.js';
import type { ClientPresence, PresenceCount } from './presence-store.js';
import { parsePresenceQuery } from './presence-query.js';

/** Client ids one answer lists, at most. */
const MAX_LISTED = 1000;

@Controller('sse')
@UseFilters(BusErrorFilter)
export class PresenceController {
  constructor(private readonly presence: Presence) {}

  /**
   * `GET /sse/presence`: who is connected, for services that are not in this process, behind
   * the publish token. `{ clients, streams }`; with `?clientId=`, `{ online, streams }`; with
   * `?topic=`, `{ clients: [ids] }`.
   */
  @Get('presence')
  @UseGuards(PublishTokenGuard)
  async answer(
    @Query() query: unknown,
  ): Promise<PresenceCount | ClientPresence | { clients: string[] }> {
    const { clientId, topic } = parsePresenceQuery(query);
    if (clientId !== undefined) return this.presence.client(clientId);
    if (topic !== undefined) return { clients: await this.presence.clientsOn(topic, MAX_LISTED) };
    return this.presence.count();
  }
}

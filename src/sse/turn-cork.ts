/** A stream that can hold its writes back and send them together. */
export interface Corkable {
  cork(): void;
  uncork(): void;
}

let turn = 0;
let ending = false;
let corked: Corkable[] = [];

function endTurn(): void {
  turn++;
  ending = false;
  const sinks = corked;
  corked = [];
  for (const sink of sinks) sink.uncork();
}

/**
 * The current turn of the event loop, as a number that changes once the turn's synchronous work
 * (a batch of messages routed, a page of history replayed) is done.
 */
export function currentTurn(): number {
  if (!ending) {
    ending = true;
    process.nextTick(endTurn);
  }
  return turn;
}

/** Holds `sink`'s writes back until the end of this turn, when they leave in one system call. */
export function corkUntilTurnEnds(sink: Corkable): void {
  sink.cork();
  corked.push(sink);
}

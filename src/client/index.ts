export { connect } from './connect.js';
export type {
  AllEvents,
  ConnectOptions,
  ControlEvents,
  EventMap,
  EventMeta,
  SseBusStream,
  StreamError,
  StreamState,
  Unsubscribe,
} from './types.js';

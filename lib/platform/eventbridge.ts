/** The EventBridge client of the events function, in a module of its own: no other function loads it. */
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { requestHandler } from './aws.js';

let eventBridgeClient: EventBridgeClient | undefined;

/** The shared EventBridge client of this Lambda process (`AWS_ENDPOINT_URL_EVENTBRIDGE` locally). */
export function eventBridge(): EventBridgeClient {
  eventBridgeClient ??= new EventBridgeClient({ maxAttempts: 3, requestHandler });
  return eventBridgeClient;
}

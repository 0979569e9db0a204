/** Publishing to Amazon EventBridge: PutEvents in batches of 10, a failed entry is an error. */
import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { EVENT_SOURCE, type LedgerEvent } from './facts.js';

/** EventBridge did not take every entry: the stream record is retried. */
export class EventsUnavailableError extends Error {
  override name = 'EventsUnavailableError';
}

export type Publish = (events: readonly LedgerEvent[]) => Promise<void>;

export function createPublisher(client: EventBridgeClient, busName: string): Publish {
  return async (events) => {
    for (let i = 0; i < events.length; i += 10) {
      const chunk = events.slice(i, i + 10);
      let failed: number;
      try {
        const out = await client.send(
          new PutEventsCommand({
            Entries: chunk.map((event) => ({
              Source: EVENT_SOURCE,
              DetailType: event.detailType,
              Detail: JSON.stringify(event.detail),
              EventBusName: busName,
            })),
          }),
        );
        failed = out.FailedEntryCount ?? 0;
      } catch (error) {
        throw new EventsUnavailableError('EventBridge could not be reached', { cause: error });
      }
      if (failed > 0) throw new EventsUnavailableError(`EventBridge refused ${failed} of ${chunk.length} events`);
    }
  };
}

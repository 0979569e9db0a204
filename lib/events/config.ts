/** The events function's configuration: which bus. */
import { type Env, optional } from '../platform/config.js';

/** `EVENT_BUS_NAME`: the bus the events go to (the account's `default` bus unless set). */
export const readEventBusName = (env: Env): string => optional(env, 'EVENT_BUS_NAME') ?? 'default';

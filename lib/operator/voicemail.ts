/**
 * A voicemail as the operator API shows it: what the ledger keeps, and the path of its audio on
 * this API (`GET /recordings/{recordingSid}`, relative to the API's base URL), so that whoever
 * calls back plays it with their own credentials and never with Twilio's.
 */
import type { Voicemail } from '../ledger/call-item.js';

export type ServedVoicemail = Voicemail & { url: string };

export const servedVoicemail = (voicemail: Voicemail): ServedVoicemail => ({
  ...voicemail,
  url: `/recordings/${voicemail.recordingSid}`,
});

/** The value with its `voicemail` (when it has one) as served. */
export function withServedVoicemail<T extends { voicemail?: Voicemail }>(value: T): Omit<T, 'voicemail'> & { voicemail?: ServedVoicemail } {
  const { voicemail, ...rest } = value;
  return voicemail === undefined ? rest : { ...rest, voicemail: servedVoicemail(voicemail) };
}

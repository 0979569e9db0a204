/**
 * A recording's audio from Twilio's REST API (`GET /Recordings/{RecordingSid}.mp3`), with the
 * function's ONE REST credential: the dashboard never holds a Twilio credential, and Twilio's
 * "HTTP Basic Auth for media" can stay on. Plain `fetch` (the SDK does not download media); a
 * redirect to Twilio's storage is followed without the credential (fetch drops it across origins).
 */
import { TwilioAuthError, TwilioUnavailableError } from './errors.js';
import type { TwilioRestCredentials } from './rest.js';

/** Twilio has no such recording for this account (never, or deleted). */
export class RecordingNotFoundError extends Error {
  override name = 'RecordingNotFoundError';
}

export interface RecordingAudio {
  contentType: string;
  body: Buffer;
}

export interface TwilioRecordings {
  /** The recording's MP3. @throws RecordingNotFoundError, TwilioAuthError, TwilioUnavailableError */
  audio(recordingSid: string): Promise<RecordingAudio>;
}

export function createTwilioRecordings(credentials: () => Promise<TwilioRestCredentials>, timeoutMs = 10_000): TwilioRecordings {
  return {
    async audio(recordingSid) {
      const c = await credentials();
      const origin = (c.baseUrl ?? 'https://api.twilio.com').replace(/\/+$/, '');
      const url = `${origin}/2010-04-01/Accounts/${c.accountSid}/Recordings/${recordingSid}.mp3`;
      let response: Response;
      try {
        response = await fetch(url, {
          headers: { Authorization: `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}` },
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (error) {
        throw new TwilioUnavailableError('Twilio did not answer for the recording', { cause: error });
      }
      if (response.status === 404)
        throw new RecordingNotFoundError(`Twilio has no recording ${recordingSid} (deleted, or never this account's)`);
      if (response.status === 401 || response.status === 403)
        throw new TwilioAuthError(`Twilio refused the REST credential (${response.status})`);
      if (!response.ok) throw new TwilioUnavailableError(`Twilio answered ${response.status} for the recording`);
      return { contentType: response.headers.get('content-type') ?? 'audio/mpeg', body: Buffer.from(await response.arrayBuffer()) };
    },
  };
}

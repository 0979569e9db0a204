/**
 * A recording at Twilio, with the function's ONE REST credential:
 * - its audio (`GET /Recordings/{RecordingSid}.mp3`): the dashboard never holds a Twilio
 *   credential, and Twilio's "HTTP Basic Auth for media" can stay on. Plain `fetch` (the SDK does
 *   not download media); a redirect to Twilio's storage is followed without the credential
 *   (fetch drops it across origins);
 * - its deletion (`DELETE /Recordings/{RecordingSid}.json`, the official SDK): a recording Twilio
 *   no longer has is gone already, which is what was asked.
 */
import { TwilioAuthError, TwilioUnavailableError } from './errors.js';
import { accountApi, OriginRequestClient, type TwilioRestCredentials } from './rest.js';

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
  /**
   * Deletes the recording (its media and its transcriptions) at Twilio: `deleted`, or `gone` when
   * Twilio had none (deleted before). @throws TwilioAuthError, TwilioUnavailableError
   */
  remove(recordingSid: string): Promise<'deleted' | 'gone'>;
  /** Requests sent to Twilio by `remove` (the benchmark counts them). */
  requests(): number;
}

export function createTwilioRecordings(credentials: () => Promise<TwilioRestCredentials>, timeoutMs = 10_000): TwilioRecordings {
  let sdk: { http: OriginRequestClient; api: ReturnType<typeof accountApi> } | undefined;
  const client = async () => {
    if (sdk === undefined) {
      const c = await credentials();
      const http = new OriginRequestClient(c.baseUrl, timeoutMs);
      sdk = { http, api: accountApi(c, http) };
    }
    return sdk;
  };
  return {
    async remove(recordingSid) {
      const { api } = await client();
      try {
        await api.recordings(recordingSid).remove();
        return 'deleted';
      } catch (error) {
        const status = typeof error === 'object' && error !== null && 'status' in error ? error.status : undefined;
        if (status === 404) return 'gone';
        if (status === 401 || status === 403) throw new TwilioAuthError(`Twilio refused the REST credential (${status})`);
        throw new TwilioUnavailableError(
          typeof status === 'number' ? `Twilio answered ${status} to the recording's deletion` : 'Twilio did not answer the deletion',
          { cause: error },
        );
      }
    },
    requests: () => sdk?.http.count ?? 0,
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

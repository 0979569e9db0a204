/**
 * The operator API's routes (a person's token or the machines' API key; each route says what it
 * needs): `GET /stats`, `GET /contacts`, `GET /contacts/{phone}`, `GET /callbacks`,
 * `POST /callbacks/{phone}/resolve`, `POST /callbacks/{phone}/call`, `GET /health`,
 * `GET /recordings/{recordingSid}`, `DELETE /contacts/{phone}` (erasure), and for admins
 * `GET/POST /users`, `PATCH /users/{id}` and `GET /audit`. Returns the HTTP reply; throws the
 * errors that lib/platform/http.ts maps.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type AuditEvent, listAudit, parseAuditQuery, recordAudit } from '../audit/trail.js';
import { actorOf, type Caller, type CallerAuth, identify, requirePermission } from '../auth/caller.js';
import { type People, type PersonChange, parseNewPerson, parsePersonChange } from '../auth/people.js';
import { keepStanding } from '../auth/standing.js';
import type { CallingStore } from '../callbacks/calling.js';
import { resolutionSummary } from '../callbacks/item.js';
import type { CallbackResolver } from '../callbacks/store.js';
import { RECORDING_SID } from '../ledger/calls.js';
import { callerId, operatorPhone } from '../phone/phone.js';
import { HttpError, type HttpRequest, queryParameters } from '../platform/request.js';
import type { TwilioCallsFactory } from '../twilio/client.js';
import type { PlaceCall } from '../twilio/place-call.js';
import { RecordingNotFoundError, type TwilioRecordings } from '../twilio/recordings.js';
import { CallBackError, callBack, openCallbackOf } from './call-back.js';
import { countOpenCallbacks, listCallbacks, parseCallbacksQuery, parseResolveBody, requireUnreachable } from './callbacks.js';
import type { OperatorConfig } from './config.js';
import { getContact, listContacts, parseListQuery } from './contacts.js';
import { eraseCaller, parseEraseBody } from './erase.js';
import { checkHealth } from './health.js';
import { readStats, statsRange } from './stats.js';

export interface OperatorDeps {
  config: OperatorConfig;
  /** Who may call: people's tokens verified against the pool, or a machine's API key. */
  auth: CallerAuth;
  documents: DynamoDBDocumentClient;
  dynamo: DynamoDBClient;
  twilioCalls: TwilioCallsFactory;
  callbacks: CallbackResolver;
  /** Recordings' audio from Twilio (GET /recordings/{recordingSid}). */
  recordings: TwilioRecordings;
  /** Calls back through Twilio: their attempts and claims, and placing them. */
  calling: CallingStore;
  placeCall: PlaceCall;
  /** People (admins' `/users`): undefined where the stack has no user pool. */
  people: (() => Promise<People>) | undefined;
  now?: () => Date;
}

/** The methods of each route; any other route is GET only. */
const METHODS: Readonly<Record<string, readonly string[]>> = {
  '/callbacks/{phone}/resolve': ['POST'],
  '/callbacks/{phone}/call': ['POST'],
  '/contacts/{phone}': ['GET', 'DELETE'],
  '/users': ['GET', 'POST'],
  '/users/{id}': ['PATCH'],
};

const json = (statusCode: number, body: unknown) => ({
  statusCode,
  headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' },
  body: JSON.stringify(body),
});

/** What a PATCH /users/{id} changed, as the audit trail keeps it (a phone only as changed or removed). */
const changeDetail = (change: PersonChange): Record<string, string | boolean> => ({
  ...(change.role === undefined ? {} : { role: change.role }),
  ...(change.disabled === undefined ? {} : { disabled: change.disabled }),
  ...(change.phone === undefined ? {} : { phone: change.phone === null ? 'removed' : 'changed' }),
});

/** The number in a route's `{phone}`; 400 when it is none. */
function phoneOf(request: HttpRequest, config: OperatorConfig): string {
  const phone = operatorPhone(request.pathParameters.phone ?? '', config.defaultCountry);
  if (phone === undefined) throw new HttpError(400, 'phone is not a valid phone number');
  return phone;
}

const audit = (deps: OperatorDeps, caller: Caller, event: AuditEvent): Promise<void> =>
  recordAudit(
    deps.documents,
    { tableName: deps.config.tableName, retentionDays: deps.config.auditRetentionDays },
    caller,
    event,
    deps.now?.(),
  );

export async function handleOperator(request: HttpRequest, deps: OperatorDeps) {
  const { config } = deps;
  const methods = METHODS[request.route] ?? ['GET'];
  if (!methods.includes(request.method)) throw new HttpError(405, `${request.route} accepts ${methods.join(' and ')} only`);
  // Every route needs to know who calls (401 otherwise); each says what it needs below.
  const caller = await identify(request, deps.auth);
  requirePermission(caller, 'work');
  const query = queryParameters(request.query);
  switch (request.route) {
    case '/recordings/{recordingSid}': {
      const sid = request.pathParameters.recordingSid ?? '';
      if (!RECORDING_SID.test(sid)) throw new HttpError(400, 'recordingSid must be RE followed by 32 hex digits');
      let audio: Awaited<ReturnType<TwilioRecordings['audio']>>;
      try {
        audio = await deps.recordings.audio(sid);
      } catch (error) {
        if (error instanceof RecordingNotFoundError) throw new HttpError(404, error.message);
        throw error;
      }
      // Binary through API Gateway: base64 here, bytes to a client whose Accept names audio/mpeg.
      return {
        statusCode: 200,
        headers: {
          'Content-Type': audio.contentType,
          'Content-Length': String(audio.body.length),
          'Cache-Control': 'private, max-age=3600',
        },
        body: audio.body.toString('base64'),
        isBase64Encoded: true,
      };
    }
    case '/callbacks':
      return json(
        200,
        await listCallbacks(deps.documents, config.tableName, parseCallbacksQuery(query), deps.now?.() ?? new Date(), config.maxAttempts),
      );
    case '/callbacks/{phone}/resolve': {
      const phone = phoneOf(request, config);
      const { note, unreachable } = parseResolveBody(request);
      const at = (deps.now?.() ?? new Date()).toISOString();
      if (unreachable) {
        // Closed as unreachable: only after CALLBACK_MAX_ATTEMPTS failed calls back since it opened.
        const open = await openCallbackOf(deps.documents, config.tableName, phone);
        if (open === undefined) throw new HttpError(404, 'No open callback for this number');
        requireUnreachable(await deps.calling.read(phone), open.openSince, config.maxAttempts);
      }
      const by = unreachable ? 'unreachable' : 'operator';
      const result = await deps.callbacks.resolve(phone, {
        id: `${by}:${at}`,
        at,
        by,
        ...(note === undefined ? {} : { note }),
        ...actorOf(caller),
      });
      if (result.outcome === 'resolved') {
        await audit(deps, caller, {
          action: unreachable ? 'callback.unreachable' : 'callback.resolved',
          customer: phone,
          detail: { resolutions: result.resolutions.length, ...(note === undefined ? {} : { withNote: true }) },
        });
        return json(200, { phone, resolved: result.resolutions.map((r) => resolutionSummary(phone, r)) });
      }
      // Idempotent: a number resolved already answers with its last resolution.
      if (result.lastResolution !== undefined && !result.open) {
        return json(200, { phone, resolved: [], alreadyResolved: resolutionSummary(phone, result.lastResolution) });
      }
      throw new HttpError(404, 'No open callback for this number');
    }
    case '/callbacks/{phone}/call': {
      // A withheld caller (anonymous, restricted, Twilio's withheld numbers) has nobody to call back.
      const id = callerId(request.pathParameters.phone ?? '');
      if (id.kind === 'anonymous' && id.reason !== 'invalid')
        throw new CallBackError(409, 'The customer withheld their number: there is nobody to call back');
      const phone = phoneOf(request, config);
      const { replayed, ...placed } = await callBack(phone, request, {
        config,
        documents: deps.documents,
        calling: deps.calling,
        placeCall: deps.placeCall,
        now: deps.now?.() ?? new Date(),
        ...actorOf(caller),
      });
      // A repeated Idempotency-Key placed nothing more.
      if (!replayed)
        await audit(deps, caller, {
          action: 'callback.called',
          customer: phone,
          detail: { attemptId: placed.attemptId, callSid: placed.callSid },
        });
      return json(202, placed);
    }
    case '/users':
    case '/users/{id}': {
      // Managing people is for admins (never a machine's key: a leaked script key must not mint admins).
      requirePermission(caller, 'manage');
      if (deps.people === undefined) throw new HttpError(404, 'Sign-in is not configured on this stack');
      const people = await deps.people();
      if (request.route === '/users/{id}') {
        const change = parsePersonChange(request);
        const changed = await people.update(request.pathParameters.id ?? '', change);
        // Their tokens lose what they lost now, not when they expire.
        const standing = { role: changed.role, disabled: !changed.enabled };
        await keepStanding(deps.documents, config.tableName, changed.id, standing, deps.now?.() ?? new Date());
        await audit(deps, caller, { action: 'person.changed', person: changed.id, detail: changeDetail(change) });
        return json(200, changed);
      }
      if (request.method === 'POST') {
        const wanted = parseNewPerson(request);
        const created = await people.create(wanted);
        await audit(deps, caller, {
          action: 'person.invited',
          person: created.id,
          detail: { role: wanted.role, invitation: wanted.temporaryPassword === undefined ? 'email' : 'temporary-password' },
        });
        return json(201, created);
      }
      return json(200, { users: await people.list() });
    }
    case '/audit':
      // Who did what is for admins.
      requirePermission(caller, 'manage');
      return json(200, await listAudit(deps.documents, config.tableName, parseAuditQuery(query)));
    case '/stats':
      return json(
        200,
        await readStats(deps.documents, config.tableName, statsRange(query, deps.now?.() ?? new Date()), {
          openNow: () => countOpenCallbacks(deps.documents, config.tableName),
          now: deps.now?.(),
        }),
      );
    case '/contacts':
      return json(200, await listContacts(deps.documents, config.tableName, parseListQuery(query)));
    case '/contacts/{phone}': {
      const phone = phoneOf(request, config);
      if (request.method === 'DELETE') {
        // Erasing a caller is for admins (never a machine's key).
        requirePermission(caller, 'manage');
        parseEraseBody(request, (raw) => operatorPhone(raw, config.defaultCountry), phone);
        const erasure = await eraseCaller(phone, {
          documents: deps.documents,
          tableName: config.tableName,
          calls: () => deps.twilioCalls({ maxAttempts: 3, timeoutMs: 10_000 }),
          recordings: deps.recordings,
          retentionDays: config.retentionDays,
          now: deps.now?.() ?? new Date(),
        });
        await audit(deps, caller, {
          action: 'contact.erased',
          customer: phone,
          detail: {
            contact: erasure.erased.contact,
            calls: erasure.erased.calls,
            resolutions: erasure.erased.resolutions,
            recordingsDeleted: erasure.erased.recordings.deleted,
          },
        });
        return json(200, erasure);
      }
      const contact = await getContact(deps.documents, config.tableName, phone, deps.now?.() ?? new Date(), config.maxAttempts);
      if (contact === undefined) throw new HttpError(404, 'No contact with this number');
      return json(200, contact);
    }
    case '/health': {
      // A health check answers fast: one attempt, 3 s.
      const report = await checkHealth({
        dynamo: deps.dynamo,
        tableName: config.tableName,
        twilio: () => deps.twilioCalls({ maxAttempts: 1, timeoutMs: 3_000 }),
      });
      return json(report.status === 'ok' ? 200 : 503, report);
    }
    default:
      throw new HttpError(404, `No route ${request.route.slice(0, 80)}`);
  }
}

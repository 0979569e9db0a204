import { describe, expect, it } from 'vitest';
import { HttpError, MAX_BODY_BYTES, parseForm, signedUrl, toHttpRequest } from '../../lib/platform/request.js';
import { statusCallback, v1Event, v2Event } from '../helpers.js';

describe('toHttpRequest', () => {
  it('reads a REST API v1 event: route template, stage path in the request URL, query rebuilt', () => {
    const params = statusCallback();
    const request = toHttpRequest(v1Event({ resource: '/twilio/call-status', params, query: { tenant: 'a b' } }));
    expect(request.route).toBe('/twilio/call-status');
    expect(request.method).toBe('POST');
    expect(request.query).toBe('tenant=a%20b');
    expect(request.requestUrl).toBe('https://abc123.execute-api.us-east-1.amazonaws.com/prod/twilio/call-status?tenant=a%20b');
    expect(request.headers['content-type']).toBe('application/x-www-form-urlencoded; charset=utf-8');
  });

  it('reads an HTTP API v2 event and decodes its base64 body', () => {
    const params = statusCallback();
    const request = toHttpRequest(v2Event({ route: '/twilio/dial-status', params, rawQueryString: 'x=1' }));
    expect(request.route).toBe('/twilio/dial-status');
    expect(request.body).toBe(new URLSearchParams(params).toString());
    expect(request.requestUrl).toBe('https://xyz789.execute-api.us-east-1.amazonaws.com/twilio/dial-status?x=1');
  });

  it('refuses a body that is not base64 when it says it is', () => {
    const event = v2Event({ route: '/twilio/call-status', params: {} });
    event.body = '%%%not-base64';
    expect(() => toHttpRequest(event)).toThrow(new HttpError(400, 'Request body is not valid base64'));
  });

  it('refuses bodies over the size limit with 413', () => {
    const event = v1Event({ resource: '/twilio/call-status', params: {}, body: 'a'.repeat(MAX_BODY_BYTES + 1) });
    expect(() => toHttpRequest(event)).toThrow(expect.objectContaining({ statusCode: 413 }));
  });

  it('reads a JSON body serverless-offline hands over parsed (a lone false or 0) as its text, not a crash', () => {
    for (const value of [false, 0, true, 12]) {
      const event = v1Event({ resource: '/contacts/{phone}', params: {} });
      (event as { body: unknown }).body = value;
      expect(toHttpRequest(event).body).toBe(JSON.stringify(value));
    }
  });

  it('refuses invalid UTF-8 inside a base64 body', () => {
    const event = v2Event({ route: '/twilio/call-status', params: {} });
    event.body = Buffer.from([0x43, 0x61, 0xff, 0xfe]).toString('base64');
    expect(() => toHttpRequest(event)).toThrow('Request body is not valid UTF-8');
  });
});

describe('signedUrl', () => {
  it('prefers the configured public base URL plus route and query (custom domain, base path)', () => {
    const request = toHttpRequest(v1Event({ resource: '/twilio/call-status', params: {}, host: 'internal.example', query: { t: '1' } }));
    expect(signedUrl(request, 'https://hooks.example.com/ledger')).toBe('https://hooks.example.com/ledger/twilio/call-status?t=1');
  });

  it('falls back to the URL rebuilt from the request', () => {
    const request = toHttpRequest(v1Event({ resource: '/twilio/call-status', params: {} }));
    expect(signedUrl(request, undefined)).toBe('https://abc123.execute-api.us-east-1.amazonaws.com/prod/twilio/call-status');
  });

  it('has no URL without a Host header', () => {
    const event = v1Event({ resource: '/twilio/call-status', params: {} });
    delete event.headers.Host;
    expect(signedUrl(toHttpRequest(event), undefined)).toBeUndefined();
  });
});

describe('parseForm', () => {
  const request = (body: string, contentType = 'application/x-www-form-urlencoded') =>
    toHttpRequest(v1Event({ resource: '/twilio/call-status', params: {}, body, contentType }));

  it('parses form parameters, decoding + and percent escapes', () => {
    expect(parseForm(request('From=%2B14155550123&CallerName=Ada+Lovelace'))).toEqual({ From: '+14155550123', CallerName: 'Ada Lovelace' });
  });

  it('refuses JSON with 415', () => {
    expect(() => parseForm(request('{"CallSid":"CA1"}', 'application/json'))).toThrow(
      new HttpError(415, 'Content-Type must be application/x-www-form-urlencoded'),
    );
  });

  it('refuses a missing content type with 415', () => {
    const event = v1Event({ resource: '/twilio/call-status', params: {} });
    delete event.headers['Content-Type'];
    expect(() => parseForm(toHttpRequest(event))).toThrow(expect.objectContaining({ statusCode: 415 }));
  });

  it('refuses a repeated parameter with 400', () => {
    expect(() => parseForm(request('CallSid=CA1&CallSid=CA2'))).toThrow('Form parameter CallSid appears more than once');
  });

  it('keeps __proto__ a plain parameter', () => {
    const params = parseForm(request('__proto__=x&CallSid=CA1'));
    expect(Object.getPrototypeOf(params)).toBe(Object.prototype);
    expect(Object.keys(params)).toEqual(['__proto__', 'CallSid']);
  });
});

/**
 * DynamoDB stream images (the Lambda event's attribute-value JSON) to plain values, checked
 * rather than cast: a record this code cannot read is reported as failed, never guessed at.
 */
import type { AttributeValue } from 'aws-lambda';
import { InvalidItemError } from './items.js';

export type PlainValue = string | number | boolean | null | Set<string> | PlainValue[] | { [key: string]: PlainValue };

/** One attribute value of a stream image as a plain value (S, N, BOOL, NULL, SS, L, M). */
export function fromAttributeValue(value: AttributeValue): PlainValue {
  if (value.S !== undefined) return value.S;
  if (value.N !== undefined) {
    const n = Number(value.N);
    if (!Number.isFinite(n)) throw new InvalidItemError(`number attribute "${value.N.slice(0, 20)}" is not finite`);
    return n;
  }
  if (value.BOOL !== undefined) return value.BOOL;
  if (value.NULL !== undefined) return null;
  if (value.SS !== undefined) return new Set(value.SS);
  if (value.L !== undefined) return value.L.map(fromAttributeValue);
  if (value.M !== undefined) return fromImage(value.M);
  throw new InvalidItemError('unsupported attribute type in stream image');
}

/** A stream image (NewImage/OldImage) as a plain object. */
export function fromImage(image: Readonly<Record<string, AttributeValue>>): { [key: string]: PlainValue } {
  const out: { [key: string]: PlainValue } = {};
  for (const [name, value] of Object.entries(image)) out[name] = fromAttributeValue(value);
  return out;
}

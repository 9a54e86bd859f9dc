/**
 * Message attributes: typed values in, the SQS/SNS wire shape out, validated against AWS's rules before any
 * network call; and the reverse for consumers. Also the byte accounting SQS and SNS apply to a message.
 *
 * @module
 */
import { MessageValidationError } from './errors.js';
import {
  ATTRIBUTE_NAME_PATTERN,
  EXTENDED_PAYLOAD_SIZE_ATTRIBUTE,
  LEGACY_EXTENDED_PAYLOAD_SIZE_ATTRIBUTE,
  MAX_ATTRIBUTE_NAME_LENGTH,
  MAX_ATTRIBUTE_TYPE_LENGTH,
  MAX_MESSAGE_ATTRIBUTES,
  MAX_NUMBER_ATTRIBUTE_DIGITS,
  RESERVED_ATTRIBUTE_PREFIXES,
} from './limits.js';

/**
 * An attribute value as producers give it: a string is `String`, a number or bigint is `Number`, bytes are
 * `Binary`; the object form sets the data type explicitly, including custom labels (`Number.float`) and SNS's
 * `String.Array`.
 */
export type AttributeValue =
  | string
  | number
  | bigint
  | Uint8Array
  | { readonly type: string; readonly value: string | Uint8Array };

export type MessageAttributes = Readonly<Record<string, AttributeValue>>;

/** The wire shape shared by SQS `MessageAttributeValue` and SNS `MessageAttributeValue`. */
export interface WireAttribute {
  DataType: string;
  StringValue?: string;
  BinaryValue?: Uint8Array;
}

/** An attribute value as consumers see it: `Number` as a number when exactly representable, else its string. */
export type ReceivedAttributeValue = string | number | Uint8Array;

const NUMBER_PATTERN = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
// Characters SQS accepts in bodies and string attributes: #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000+.
const INVALID_CHARACTERS =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the pattern lists exactly the control characters AWS rejects
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const OUTSIDE_COMMON_RANGE = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD]/;

/** Throws a {@link MessageValidationError} naming the first character SQS/SNS would reject, if any. */
export function assertValidCharacters(text: string, what: string): void {
  if (!OUTSIDE_COMMON_RANGE.test(text)) return; // fast path: no control character and no surrogate at all
  const match = INVALID_CHARACTERS.exec(text);
  if (match) {
    const code = match[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    throw new MessageValidationError(
      `${what} contains U+${code} at position ${match.index}, which SQS and SNS reject (allowed: tab, newline, ` +
        'carriage return, U+0020–U+D7FF, U+E000–U+FFFD, U+10000+). Fix: remove it or encode the payload (e.g. base64).',
    );
  }
}

function assertValidName(name: string): void {
  const problem =
    name.length === 0 || name.length > MAX_ATTRIBUTE_NAME_LENGTH
      ? `must be 1–${MAX_ATTRIBUTE_NAME_LENGTH} characters`
      : !ATTRIBUTE_NAME_PATTERN.test(name)
        ? 'may contain only A-Z, a-z, 0-9, underscore, hyphen and period'
        : name.startsWith('.') || name.endsWith('.') || name.includes('..')
          ? 'must not start or end with a period or contain two periods in a row'
          : RESERVED_ATTRIBUTE_PREFIXES.some((p) => name.toLowerCase().startsWith(p))
            ? `must not start with ${RESERVED_ATTRIBUTE_PREFIXES.join(' or ')} (reserved by AWS)`
            : name === EXTENDED_PAYLOAD_SIZE_ATTRIBUTE || name === LEGACY_EXTENDED_PAYLOAD_SIZE_ATTRIBUTE
              ? 'is reserved for large-payload pointers (AWS extended client format)'
              : undefined;
  if (problem) throw new MessageValidationError(`Message attribute name '${name}' ${problem}. Fix: rename it.`);
}

function assertValidNumber(name: string, text: string): void {
  if (!NUMBER_PATTERN.test(text))
    throw new MessageValidationError(
      `Message attribute '${name}' is a Number but '${text}' is not a decimal number. Fix: send a finite number or use a String attribute.`,
    );
  const digits = text
    .replace(/[eE].*$/, '')
    .replace(/[^0-9]/g, '')
    .replace(/^0+/, '')
    .replace(/0+$/, '');
  if (digits.length > MAX_NUMBER_ATTRIBUTE_DIGITS)
    throw new MessageValidationError(
      `Message attribute '${name}' has ${digits.length} significant digits; a Number holds at most ${MAX_NUMBER_ATTRIBUTE_DIGITS}. Fix: round it or send it as a String.`,
    );
}

function toWire(name: string, value: AttributeValue): WireAttribute {
  if (typeof value === 'string') return { DataType: 'String', StringValue: value };
  if (typeof value === 'number') {
    if (!Number.isFinite(value))
      throw new MessageValidationError(
        `Message attribute '${name}' is ${value}; a Number must be finite. Fix: send a finite number or a String.`,
      );
    return { DataType: 'Number', StringValue: String(value) };
  }
  if (typeof value === 'bigint') return { DataType: 'Number', StringValue: value.toString() };
  if (value instanceof Uint8Array) return { DataType: 'Binary', BinaryValue: value };
  const base = value.type.split('.')[0];
  if (!['String', 'Number', 'Binary'].includes(base ?? '') || value.type.length > MAX_ATTRIBUTE_TYPE_LENGTH)
    throw new MessageValidationError(
      `Message attribute '${name}' has data type '${value.type}'. Fix: use String, Number or Binary, optionally with a '.label' suffix (≤ ${MAX_ATTRIBUTE_TYPE_LENGTH} characters).`,
    );
  if (base === 'Binary') {
    if (!(value.value instanceof Uint8Array))
      throw new MessageValidationError(`Message attribute '${name}' is Binary. Fix: give its value as a Uint8Array.`);
    return { DataType: value.type, BinaryValue: value.value };
  }
  if (typeof value.value !== 'string')
    throw new MessageValidationError(`Message attribute '${name}' is ${base}. Fix: give its value as a string.`);
  return { DataType: value.type, StringValue: value.value };
}

/**
 * Converts typed attributes to the wire shape and validates them against AWS's rules (count, names, types,
 * values, characters). Throws a {@link MessageValidationError} naming the attribute and the fix.
 *
 * @param maxCount attributes allowed: 10, or 9 when one slot is kept for the large-payload marker
 */
export function toWireAttributes(
  attributes: MessageAttributes | undefined,
  maxCount: number = MAX_MESSAGE_ATTRIBUTES,
): Record<string, WireAttribute> | undefined {
  if (!attributes) return undefined;
  const names = Object.keys(attributes);
  if (names.length === 0) return undefined;
  if (names.length > maxCount)
    throw new MessageValidationError(
      `Message has ${names.length} attributes; at most ${maxCount} are allowed` +
        (maxCount < MAX_MESSAGE_ATTRIBUTES ? ' when the body is offloaded to S3 (one is the pointer marker)' : '') +
        '. Fix: merge attributes or move data into the body.',
    );
  const wire: Record<string, WireAttribute> = {};
  for (const name of names) {
    assertValidName(name);
    const attribute = toWire(name, attributes[name] as AttributeValue);
    if (attribute.StringValue !== undefined) {
      if (attribute.StringValue === '')
        throw new MessageValidationError(`Message attribute '${name}' is empty. Fix: omit it or give it a value.`);
      if (attribute.DataType.startsWith('Number')) assertValidNumber(name, attribute.StringValue);
      else assertValidCharacters(attribute.StringValue, `Message attribute '${name}'`);
    } else if (attribute.BinaryValue?.byteLength === 0)
      throw new MessageValidationError(`Message attribute '${name}' is empty. Fix: omit it or give it a value.`);
    wire[name] = attribute;
  }
  return wire;
}

/** Bytes SQS and SNS count for attributes: name + data type + value, each UTF-8 (binary values as bytes). */
export function attributesByteSize(wire: Readonly<Record<string, WireAttribute>> | undefined): number {
  if (!wire) return 0;
  let size = 0;
  for (const [name, a] of Object.entries(wire)) {
    size += Buffer.byteLength(name) + Buffer.byteLength(a.DataType);
    size += a.BinaryValue ? a.BinaryValue.byteLength : Buffer.byteLength(a.StringValue ?? '');
  }
  return size;
}

/** Significant digits a double always holds exactly: a Number attribute with more stays a string. */
const EXACT_DIGITS = 15;

/**
 * A received Number as a JS number when it has at most 15 significant digits (always exact in a double), else
 * the string: AWS numbers have up to 38 digits, and a rule by digit count gives an attribute one type for all
 * its everyday values rather than switching type at 2^53.
 */
export function numberAttribute(text: string): number | string {
  const digits = text
    .replace(/^[+-]/, '')
    .replace(/[eE].*$/, '')
    .replace('.', '')
    .replace(/^0+/, '');
  if (digits.length > EXACT_DIGITS) return text;
  const n = Number(text);
  return Number.isFinite(n) ? n : text;
}

import { describeSep9Field } from '../../../machines/index.ts';
import type { CustomerFieldValue, CustomerIntegration, CustomerReview } from '../customer-integration.ts';

/**
 * The built-in SEP-12 integration: judges each pending field by its SEP-9 format alone and answers at
 * once, so a customer is ACCEPTED as soon as every required field is present and well formed, and
 * NEEDS_INFO with the bad fields REJECTED (and an error each) otherwise. Verification codes are not used.
 */
export function createReferenceCustomerIntegration(): CustomerIntegration {
  return {
    async review(request) {
      const verified: string[] = [];
      const rejected: Record<string, string> = {};
      for (const name of request.pending) {
        const value = request.fields[name];
        if (value === undefined) continue;
        const problem = fieldProblem(name, value, request.fields);
        if (problem === null) verified.push(name);
        else rejected[name] = problem;
      }
      const review: CustomerReview = { verified, rejected };
      return review;
    },
  };
}

const NAMES = new Set([
  'first_name',
  'last_name',
  'additional_name',
  'card.holder_name',
  'organization.director_name',
  'organization.shareholder_name',
]);
const DIGITS = new Set(['bank_account_number', 'bank_number', 'bank_branch_number', 'card.cvc']);
const FIXED_DIGITS: Record<string, number> = { clabe_number: 18, cbu_number: 22 };
const PHONES = new Set(['mobile_number', 'bank_phone_number', 'mobile_money_number', 'organization.phone']);
const EMAILS = new Set(['email_address', 'organization.email']);
const COUNTRIES = new Set([
  'address_country_code',
  'birth_country_code',
  'id_country_code',
  'organization.address_country_code',
  'card.country_code',
]);
const FILE_TYPES = /^(image\/[\w.+-]+|application\/pdf|video\/[\w.+-]+)$/i;

/** Why a value is not acceptable for this SEP-9 field, or null when it is. */
export function fieldProblem(
  name: string,
  value: CustomerFieldValue,
  all: Readonly<Record<string, CustomerFieldValue>> = {},
): string | null {
  const field = describeSep9Field(name);
  if (field.type === 'binary') {
    if (value.kind !== 'file') return `${name} must be a file`;
    if (value.size === 0) return `${name} is an empty file`;
    if (!FILE_TYPES.test(value.contentType)) {
      return `${name} must be an image, a PDF or a video (got ${value.contentType})`;
    }
    return null;
  }
  if (value.kind !== 'text') return `${name} must be text, not a file`;
  const text = value.value.trim();
  if (text === '') return `${name} must not be blank`;
  if (field.choices !== undefined && !field.choices.includes(text)) {
    return `${name} must be one of ${field.choices.join(', ')}`;
  }
  if (NAMES.has(name)) {
    if (text.length > 100) return `${name} must be at most 100 characters`;
    if (!/\p{L}/u.test(text) || /[\p{N}\p{C}]/u.test(text))
      return `${name} must be a name (letters, no digits)`;
    return null;
  }
  if (DIGITS.has(name)) {
    return /^\d{1,34}$/.test(text) ? null : `${name} must contain digits only`;
  }
  const length = FIXED_DIGITS[name];
  if (length !== undefined) {
    return new RegExp(`^\\d{${length}}$`).test(text) ? null : `${name} must be ${length} digits`;
  }
  if (name === 'card.number') return /^\d{12,19}$/.test(text) ? null : `${name} must be 12 to 19 digits`;
  if (PHONES.has(name)) {
    const hashed = name === 'mobile_number' && textOf(all.mobile_number_format) === 'hash';
    if (hashed) return /^[0-9a-f]{64}$/i.test(text) ? null : `${name} must be a SHA-256 hash (hex)`;
    return /^\+[1-9]\d{6,14}$/.test(text)
      ? null
      : `${name} must be a phone number in E.164 format, e.g. +14155550100`;
  }
  if (EMAILS.has(name)) {
    return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(text) && text.length <= 254
      ? null
      : `${name} must be an email address`;
  }
  if (COUNTRIES.has(name)) {
    return /^[A-Z]{2,3}$/.test(text) ? null : `${name} must be an ISO 3166-1 country code, e.g. USA`;
  }
  if (name === 'language_code') return /^[a-z]{2}$/.test(text) ? null : `${name} must be an ISO 639-1 code`;
  if (name === 'card.expiration_date') {
    return /^\d{2}-(0[1-9]|1[0-2])$/.test(text) ? null : `${name} must be YY-MM`;
  }
  if (field.type === 'date') return isDate(text) ? null : `${name} must be a date (YYYY-MM-DD)`;
  if (field.type === 'number') return /^\d+(\.\d+)?$/.test(text) ? null : `${name} must be a number`;
  return text.length <= 1000 ? null : `${name} must be at most 1000 characters`;
}

function textOf(value: CustomerFieldValue | undefined): string | null {
  return value?.kind === 'text' ? value.value.trim() : null;
}

function isDate(text: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

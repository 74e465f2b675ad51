/**
 * SEP-9 standard KYC fields: the only field names SEP-12 may ask for or accept (SDF's conformance checks
 * reject any other key). Each has the SEP-12 `fields` type and a description to show the sending anchor.
 * Pure data: the vocabulary the customer machine, the reference integration and the SEP-12 routes share.
 * @see https://github.com/stellar/stellar-protocol/blob/master/ecosystem/sep-0009.md
 */
export type Sep9FieldType = 'string' | 'binary' | 'number' | 'date';

export interface Sep9Field {
  type: Sep9FieldType;
  description: string;
  choices?: readonly string[];
}

const s = (description: string, choices?: readonly string[]): Sep9Field =>
  choices ? { type: 'string', description, choices } : { type: 'string', description };
const d = (description: string): Sep9Field => ({ type: 'date', description });
const b = (description: string): Sep9Field => ({ type: 'binary', description });
const n = (description: string): Sep9Field => ({ type: 'number', description });

const NATURAL_PERSON: Record<string, Sep9Field> = {
  last_name: s('Family or last name'),
  first_name: s('Given or first name'),
  additional_name: s('Middle name or other additional name'),
  address_country_code: s('Country code for current address (ISO 3166-1 alpha-3)'),
  state_or_province: s('Name of state/province/region/prefecture'),
  city: s('Name of city/town'),
  postal_code: s("Postal or other code identifying user's locale"),
  address: s('Entire address (country, state, postal code, street address, etc.) as a multi-line string'),
  mobile_number: s('Mobile phone number with country code, in E.164 format'),
  mobile_number_format: s('Expected format of the mobile_number field', ['E.164', 'hash']),
  email_address: s('Email address'),
  birth_date: d('Date of birth, e.g. 1976-07-04'),
  birth_place: s('Place of birth (city, state, country; as on passport)'),
  birth_country_code: s('ISO code of country of birth (ISO 3166-1 alpha-3)'),
  tax_id: s('Tax identifier of user in their country (social security number in US)'),
  tax_id_name: s('Name of the tax ID (SSN or ITIN in the US)'),
  occupation: n('Occupation ISCO code'),
  employer_name: s('Name of employer'),
  employer_address: s('Address of employer'),
  language_code: s('Primary language (ISO 639-1)'),
  id_type: s('Type of ID', ['passport', 'drivers_license', 'id_card']),
  id_country_code: s('Country issuing passport or photo ID (ISO 3166-1 alpha-3)'),
  id_issue_date: d('ID issue date'),
  id_expiration_date: d('ID expiration date'),
  id_number: s('Passport or ID number'),
  photo_id_front: b("Image of front of user's photo ID or passport"),
  photo_id_back: b("Image of back of user's photo ID or passport"),
  notary_approval_of_photo_id: b("Image of notary's approval of photo ID or passport"),
  ip_address: s("IP address of customer's computer"),
  photo_proof_residence: b(
    "Image of a utility bill, bank statement or similar with the user's name and address",
  ),
  sex: s('Gender', ['male', 'female', 'other']),
  proof_of_income: b("Image of user's proof of income document"),
  proof_of_liveness: b('Video or image file of user as a liveness proof'),
  referral_id: s("User's origin (such as an id in another application) or a referral code"),
};

const FINANCIAL_ACCOUNT: Record<string, Sep9Field> = {
  bank_name: s('Name of the bank'),
  bank_account_type: s('Type of bank account', ['checking', 'savings']),
  bank_account_number: s('Number identifying bank account'),
  bank_number: s('Number identifying bank in national banking system (routing number in US)'),
  bank_phone_number: s('Phone number with country code for bank'),
  bank_branch_number: s('Number identifying bank branch'),
  external_transfer_memo: s('A destination tag/memo used to identify a transaction'),
  clabe_number: s('Bank account number for Mexico'),
  cbu_number: s('Clave Bancaria Uniforme (CBU) or Clave Virtual Uniforme (CVU)'),
  cbu_alias: s('The alias for a CBU or CVU'),
  mobile_money_number: s(
    'Mobile phone number in E.164 format with which a mobile money account is associated',
  ),
  mobile_money_provider: s('Name of the mobile money service provider'),
  crypto_address: s('Address for a cryptocurrency account'),
  crypto_memo: s('A destination tag/memo used to identify a transaction'),
};

const ORGANIZATION: Record<string, Sep9Field> = {
  'organization.name': s('Full organization name as on the incorporation papers'),
  'organization.VAT_number': s('Organization VAT number'),
  'organization.registration_number': s('Organization registration number'),
  'organization.registration_date': d('Date the organization was registered'),
  'organization.registered_address': s('Organization registered address'),
  'organization.number_of_shareholders': n('Organization shareholder number'),
  'organization.shareholder_name': s('Name of shareholder (can be organization or person)'),
  'organization.photo_incorporation_doc': b('Image of incorporation documents'),
  'organization.photo_proof_address': b(
    "Image of a utility bill, bank statement with the organization's name and address",
  ),
  'organization.address_country_code': s('Country code for current address (ISO 3166-1 alpha-3)'),
  'organization.state_or_province': s('Name of state/province/region/prefecture'),
  'organization.city': s('Name of city/town'),
  'organization.postal_code': s("Postal or other code identifying organization's locale"),
  'organization.director_name': s('Organization registered managing director'),
  'organization.website': s('Organization website'),
  'organization.email': s('Organization contact email'),
  'organization.phone': s('Organization contact phone'),
};

const CARD: Record<string, Sep9Field> = {
  'card.number': s('Card number'),
  'card.expiration_date': s('Expiration month and year in YY-MM format (e.g. 29-11, November 2029)'),
  'card.cvc': s('CVC number (digits on the back of the card)'),
  'card.holder_name': s('Name of the card holder'),
  'card.network': s('Brand of the card/network it operates within (e.g. Visa, Mastercard, AmEx)'),
  'card.postal_code': s('Billing address postal code'),
  'card.country_code': s('Billing address country code in ISO 3166-1 alpha-2 (e.g. US)'),
  'card.state_or_province': s('Name of state/province/region/prefecture in ISO 3166-2 format'),
  'card.city': s('Name of city/town'),
  'card.address': s(
    'Entire address (country, state, postal code, street address, etc.) as a multi-line string',
  ),
  'card.token': s('Token representation of the card in some external payment system (e.g. Stripe)'),
};

export const SEP9_FIELDS: Readonly<Record<string, Sep9Field>> = Object.freeze({
  ...NATURAL_PERSON,
  ...FINANCIAL_ACCOUNT,
  ...ORGANIZATION,
  ...CARD,
});

export function isSep9Field(name: string): boolean {
  return Object.hasOwn(SEP9_FIELDS, name);
}

/**
 * The description of a field: its SEP-9 entry, or for a name SEP-9 does not know (a configuration
 * mistake: SEP-12 clients reject non-SEP-9 keys) a generic string field named after it.
 */
export function describeSep9Field(name: string): Sep9Field {
  return Object.hasOwn(SEP9_FIELDS, name) ? SEP9_FIELDS[name]! : s(name.replaceAll('_', ' '));
}

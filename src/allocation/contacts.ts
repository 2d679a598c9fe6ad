/** Normalised contacts of a lead, as the duplicate window compares them (SPEC §10). */
import type { DEDUPE_FIELDS } from '../contracts/rules.js';

export type ContactField = (typeof DEDUPE_FIELDS)[number];

/**
 * `e:` + the email trimmed and lower-cased, `p:` + the phone's digits; a field that leaves
 * nothing (no email, a phone without digits) has no contact.
 */
export function contactsOf(
  fields: Readonly<Record<string, string | null>>,
  which: readonly ContactField[] = ['email', 'phone'],
): string[] {
  const contacts: string[] = [];
  if (which.includes('email')) {
    const email = fields['email']?.trim().toLowerCase();
    if (email) contacts.push(`e:${email}`);
  }
  if (which.includes('phone')) {
    const phone = fields['phone']?.replace(/\D/g, '');
    if (phone) contacts.push(`p:${phone}`);
  }
  return contacts;
}

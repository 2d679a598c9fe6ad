/**
 * A service slug: lowercase letters, digits and dashes, at most 63, and at least one letter —
 * an all-digit slug such as "2" would be shadowed by service id 2 wherever a service is named
 * by id or slug (SPEC §8).
 */
export const SLUG_PATTERN = /^(?=[a-z0-9-]*[a-z])[a-z0-9][a-z0-9-]{0,62}$/;

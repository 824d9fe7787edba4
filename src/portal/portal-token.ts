/** Lifetime bounds of a portal link, in seconds. */
export const PORTAL_LIFETIME = { default: 3600, min: 300, max: 7 * 24 * 3600 };

/** Portal tokens carry their own prefix so the guard knows which store to ask. */
export const PORTAL_TOKEN_PREFIX = 'hpt_';
export const isPortalToken = (key: string): boolean => key.startsWith(PORTAL_TOKEN_PREFIX);

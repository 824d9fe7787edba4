import { randomUUID } from 'node:crypto';

/** What an incoming x-request-id may look like to be kept: UUIDs, ULIDs, trace ids; nothing that could forge a log line. */
const SANE = /^[A-Za-z0-9._:=/+@-]{1,128}$/;

/** The caller's x-request-id when it is sane (length and characters), else a new UUID. */
export function requestIdFrom(header: string | string[] | undefined): string {
  return typeof header === 'string' && SANE.test(header) ? header : randomUUID();
}

import { monotonicFactory } from 'ulid';

export type IdKind = 'tnt' | 'ep' | 'evt' | 'dlv' | 'att' | 'src' | 'key' | 'req' | 'rpl' | 'ps';

const nextUlid = monotonicFactory();

/** Opaque, prefixed, time-sortable ids: `evt_01J…` sorts by creation time as a string. */
export function newId(kind: IdKind): string {
  return `${kind}_${nextUlid()}`;
}

const ID_PATTERN = /^(tnt|ep|evt|dlv|att|src|key|req|rpl|ps)_[0-9A-HJKMNP-TV-Z]{26}$/;

export function isId(value: string, kind?: IdKind): boolean {
  return ID_PATTERN.test(value) && (kind === undefined || value.startsWith(`${kind}_`));
}

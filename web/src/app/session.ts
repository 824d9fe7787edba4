import type { Schemas } from '../api/client';

const KEY = 'herald.key';

/** The bearer key lives in session storage only: never in a URL, a cookie or a log. */
export function storedKey(): string | null {
  return sessionStorage.getItem(KEY);
}

export function storeKey(key: string): void {
  sessionStorage.setItem(KEY, key);
}

export function forgetKey(): void {
  sessionStorage.removeItem(KEY);
}

/** A portal link carries its token as #token=…: kept in session storage, then removed from the address bar. */
export function takeTokenFromFragment(): void {
  const match = /(?:^#|&)token=([^&]+)/.exec(window.location.hash);
  if (!match) return;
  storeKey(decodeURIComponent(match[1]));
  window.history.replaceState(window.history.state, '', window.location.pathname + window.location.search);
}

export type Principal = Schemas['PrincipalView'];
export type Capability = Principal['capabilities'][number];

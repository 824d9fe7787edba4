import { createContext, useContext } from 'react';
import type { Capability, Principal } from './session';

export interface ConsoleContext {
  me: Principal;
  /** Whether the signed-in key may do this: controls a capability forbids are not shown. */
  can: (capability: Capability) => boolean;
}

export const Console = createContext<ConsoleContext | null>(null);

export function useConsole(): ConsoleContext {
  const ctx = useContext(Console);
  if (!ctx) throw new Error('useConsole outside the signed-in console');
  return ctx;
}

import { Initial1795438596365 } from './1795438596365-initial';

// Every migration, in order. Generated with `npm run migration:generate`, reviewed by hand.
export const migrations = [Initial1795438596365];

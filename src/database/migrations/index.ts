import { Initial1795438596365 } from './1795438596365-initial';
import { EndpointHealth1795440812385 } from './1795440812385-endpoint-health';
import { Inbound1795440907699 } from './1795440907699-inbound';
import { AttemptsByEndpoint1795443315417 } from './1795443315417-attempts-by-endpoint';
import { EventTypes1795678200128 } from './1795678200128-event-types';
import { SvixCompatibility1795679220996 } from './1795679220996-svix-compatibility';
import { DeliveryIntegrity1795679392491 } from './1795679392491-delivery-integrity';
import { EndpointFilter1795677773935 } from './1795677773935-endpoint-filter';
import { EndpointTransformation1795678612666 } from './1795678612666-endpoint-transformation';
import { EndpointSigning1795679252373 } from './1795679252373-endpoint-signing';
import { Replays1795680432747 } from './1795680432747-replays';
import { Observability1795680000000 } from './1795680000000-observability';
import { PortalSessions1795683000000 } from './1795683000000-portal-sessions';
import { TimePartitions1795690000000 } from './1795690000000-time-partitions';
import { StatsRollup1795695000000 } from './1795695000000-stats-rollup';
import { Ordering1795696000000 } from './1795696000000-ordering';

// Every migration, in order. Generated with `npm run migration:generate`, reviewed by hand.
export const migrations = [
  Initial1795438596365,
  EndpointHealth1795440812385,
  Inbound1795440907699,
  AttemptsByEndpoint1795443315417,
  EndpointFilter1795677773935,
  EventTypes1795678200128,
  EndpointTransformation1795678612666,
  SvixCompatibility1795679220996,
  EndpointSigning1795679252373,
  DeliveryIntegrity1795679392491,
  Observability1795680000000,
  Replays1795680432747,
  PortalSessions1795683000000,
  TimePartitions1795690000000,
  StatsRollup1795695000000,
  Ordering1795696000000,
];

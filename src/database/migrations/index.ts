import { Initial1795438596365 } from './1795438596365-initial';
import { EndpointHealth1795440812385 } from './1795440812385-endpoint-health';
import { Inbound1795440907699 } from './1795440907699-inbound';
import { AttemptsByEndpoint1795443315417 } from './1795443315417-attempts-by-endpoint';
import { DeliveryIntegrity1795679392491 } from './1795679392491-delivery-integrity';
import { EndpointFilter1795677773935 } from './1795677773935-endpoint-filter';
import { EndpointTransformation1795678612666 } from './1795678612666-endpoint-transformation';
import { EndpointSigning1795679252373 } from './1795679252373-endpoint-signing';
import { Replays1795680432747 } from './1795680432747-replays';

// Every migration, in order. Generated with `npm run migration:generate`, reviewed by hand.
export const migrations = [
  Initial1795438596365,
  EndpointHealth1795440812385,
  Inbound1795440907699,
  AttemptsByEndpoint1795443315417,
  EndpointFilter1795677773935,
  EndpointTransformation1795678612666,
  EndpointSigning1795679252373,
  DeliveryIntegrity1795679392491,
  Replays1795680432747,
];

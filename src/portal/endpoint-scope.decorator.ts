import { ExecutionContext, createParamDecorator } from '@nestjs/common';
import type { AuthedRequest } from '../access/access.decorators';

/**
 * The endpoints a request may see: the ids of a portal link limited to some endpoints, else undefined
 * (every endpoint of the tenant). List routes pass it to their query so nothing outside shows up.
 */
export const EndpointScope = createParamDecorator((_: unknown, ctx: ExecutionContext): string[] | undefined => {
  const principal = ctx.switchToHttp().getRequest<AuthedRequest>().principal;
  return principal?.portal?.endpointIds ?? undefined;
});

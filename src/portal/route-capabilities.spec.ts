import 'reflect-metadata';
import { ApiModule } from '../api.module';
import { ACCESS, CAPABILITY } from '../access/access.decorators';

/** Every tenant route says what a portal token needs for it, so none is open (or closed) by omission. */
describe('tenant routes and portal capabilities', () => {
  const controllers: (new (...args: never[]) => object)[] = Reflect.getMetadata('controllers', ApiModule);
  const handlers = controllers.flatMap((c) =>
    Object.getOwnPropertyNames(c.prototype)
      .filter((name) => name !== 'constructor')
      .map((name) => ({ name: `${c.name}.${name}`, fn: (c.prototype as Record<string, unknown>)[name] as object })),
  );

  it('declares a capability on every @TenantRoute handler', () => {
    const tenantRoutes = handlers.filter((h) => Reflect.getMetadata(ACCESS, h.fn) === 'tenant');
    expect(tenantRoutes.length).toBeGreaterThan(30);
    expect(tenantRoutes.filter((h) => Reflect.getMetadata(CAPABILITY, h.fn) === undefined).map((h) => h.name)).toEqual([]);
  });

  it('keeps publishing, sources writes and portal links closed to portal tokens', () => {
    const never = handlers.filter((h) => Reflect.getMetadata(CAPABILITY, h.fn)?.capability === 'never').map((h) => h.name);
    expect(never).toEqual(expect.arrayContaining(['EventsController.publish', 'EventsController.publishBatch', 'SourcesController.create', 'SourcesController.update', 'SourcesController.remove', 'PortalSessionsController.create', 'TenantsController.update', 'TenantsController.remove']));
  });
});

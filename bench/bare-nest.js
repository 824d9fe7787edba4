'use strict';
// The ingest ceiling: a tiny NestJS-on-Fastify app (not Herald) with Herald's Fastify settings, whose one
// route parses a JSON body and answers 202. Plain JS, so the decorators are applied by hand.
require('reflect-metadata');
const { NestFactory } = require('@nestjs/core');
const { FastifyAdapter } = require('@nestjs/platform-fastify');
const { Body, Controller, HttpCode, Module, Param, Post } = require('@nestjs/common');

let seq = 0;
class BareController {
  publish(tenantId, body) {
    return { id: `evt_${++seq}`, eventType: body.eventType, createdAt: new Date().toISOString(), deliveryCount: 1 };
  }
}
Reflect.decorate([Post(), HttpCode(202)], BareController.prototype, 'publish', Object.getOwnPropertyDescriptor(BareController.prototype, 'publish'));
Param('tenantId')(BareController.prototype, 'publish', 0);
Body()(BareController.prototype, 'publish', 1);
Reflect.decorate([Controller('v1/tenants/:tenantId/events')], BareController);

class BareModule {}
Reflect.decorate([Module({ controllers: [BareController] })], BareModule);

async function main() {
  const adapter = new FastifyAdapter({ bodyLimit: 16 * 1024 * 1024, trustProxy: true, requestIdHeader: 'x-request-id' });
  const app = await NestFactory.create(BareModule, adapter, { logger: ['error', 'warn'] });
  app.enableShutdownHooks();
  await app.listen(Number(process.env.PORT), '127.0.0.1');
  process.stdout.write('ready\n');
}
main().catch((error) => {
  console.error(error);
  process.exit(1);
});

import { DynamicModule, Global, Injectable, Module, OnApplicationShutdown, Provider } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { HeraldConfig } from '../config/config';
import { DeliveryTracing } from './delivery-tracing';
import { PublishTracing } from './publish-tracing';
import { RequestTracingInterceptor } from './request-tracing.interceptor';
import { stopTracing } from './tracing';

/** Flushes buffered spans when the application stops. */
@Injectable()
class TracingShutdown implements OnApplicationShutdown {
  async onApplicationShutdown(): Promise<void> {
    await stopTracing();
  }
}

/** Tracing's injectables; the request interceptor and the shutdown flush only when tracing is on. */
@Global()
@Module({})
export class TracingModule {
  static forConfig(config: HeraldConfig): DynamicModule {
    const providers: Provider[] = [DeliveryTracing, PublishTracing];
    if (config.tracing.enabled) providers.push({ provide: APP_INTERCEPTOR, useClass: RequestTracingInterceptor }, TracingShutdown);
    return { module: TracingModule, providers, exports: [DeliveryTracing, PublishTracing] };
  }
}

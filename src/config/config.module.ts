import { Global, Module } from '@nestjs/common';
import { SecretBox } from '../common/secrets';
import { HeraldConfig, loadConfig } from './config';

export const CONFIG = Symbol('HeraldConfig');

@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: HeraldConfig = loadConfig()) {
    return {
      module: ConfigModule,
      providers: [{ provide: CONFIG, useValue: config }, { provide: SecretBox, useValue: new SecretBox(config.encryptionKey) }],
      exports: [CONFIG, SecretBox],
    };
  }
}

import { ConfigError, loadConfig } from '../config/config';

const base = { NODE_ENV: 'production', HERALD_ADMIN_KEY: 'a'.repeat(20), HERALD_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64') };

describe('tracing configuration', () => {
  it('is off unless an OTLP endpoint is set', () => {
    expect(loadConfig(base).tracing).toEqual({ enabled: false, serviceName: 'herald' });
    expect(loadConfig({ ...base, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).tracing.enabled).toBe(true);
    expect(loadConfig({ ...base, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://collector/v1/traces' }).tracing.enabled).toBe(true);
  });

  it('stays off when OTEL_SDK_DISABLED says so', () => {
    expect(loadConfig({ ...base, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' }).tracing.enabled).toBe(false);
  });

  it('takes the service name from OTEL_SERVICE_NAME', () => {
    expect(loadConfig({ ...base, OTEL_SERVICE_NAME: 'herald-worker' }).tracing.serviceName).toBe('herald-worker');
  });

  it('names a bad endpoint', () => {
    expect(() => loadConfig({ ...base, OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' })).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT/);
  });
});

describe('metrics configuration', () => {
  it('bounds endpoint and tenant labels by default and names bad values', () => {
    expect(loadConfig(base)).toMatchObject({ metricsTopEndpoints: 20, metricsTopTenants: 100 });
    expect(() => loadConfig({ ...base, HERALD_METRICS_TOP_ENDPOINTS: '-1' })).toThrow(/HERALD_METRICS_TOP_ENDPOINTS/);
  });
});

import { TraceFlags } from '@opentelemetry/api';
import { formatTraceparent, parseTraceparent, urlWithoutQuery } from './trace-context';

describe('traceparent', () => {
  const value = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

  it('parses and formats back', () => {
    const context = parseTraceparent(value)!;
    expect(context).toMatchObject({ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.SAMPLED, isRemote: true });
    expect(formatTraceparent(context)).toBe(value);
  });

  it('keeps an unsampled flag unsampled', () => {
    expect(formatTraceparent(parseTraceparent(value.replace(/01$/, '00'))!)).toMatch(/-00$/);
  });

  it.each([null, '', 'garbage', '00-00000000000000000000000000000000-b7ad6b7169203331-01', '00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01', '01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', `${value}-extra`])(
    'refuses %p',
    (bad) => expect(parseTraceparent(bad)).toBeUndefined(),
  );
});

describe('urlWithoutQuery', () => {
  it('drops user info, query and fragment', () => {
    expect(urlWithoutQuery('https://user:pw@hooks.example.com/in/x?token=secret#frag')).toEqual({ full: 'https://hooks.example.com/in/x', host: 'hooks.example.com', port: 443 });
    expect(urlWithoutQuery('http://127.0.0.1:8080/a')).toEqual({ full: 'http://127.0.0.1:8080/a', host: '127.0.0.1', port: 8080 });
  });

  it('answers null for what is not a URL', () => {
    expect(urlWithoutQuery('not a url')).toBeNull();
  });
});

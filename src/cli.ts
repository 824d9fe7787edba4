#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { importFromSvix } from './cli/svix-import';

const USAGE = `usage: herald import svix --server-url <svix url> --token <svix token> --herald-url <herald url> --herald-token <herald admin key>

Copies event types, applications and endpoints (secrets, headers, filter types, channels, rate limits)
from a Svix server into Herald. Run it again at any time: it updates what it copied and adds nothing twice.`;

/** `herald <command>`: the project's command line. Exit code 0 on success, 1 on failure, 2 on bad usage. */
export async function main(argv: string[], out: (line: string) => void = (l) => process.stdout.write(`${l}\n`), err: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<number> {
  const [command, source, ...rest] = argv;
  if (command !== 'import' || source !== 'svix') {
    err(USAGE);
    return 2;
  }
  let values: Record<string, string | undefined>;
  try {
    values = parseArgs({
      args: rest,
      options: { 'server-url': { type: 'string' }, token: { type: 'string' }, 'herald-url': { type: 'string' }, 'herald-token': { type: 'string' } },
      strict: true,
    }).values as Record<string, string | undefined>;
  } catch (error) {
    err(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const missing = ['server-url', 'token', 'herald-url', 'herald-token'].filter((name) => !values[name]);
  if (missing.length) {
    err(`missing ${missing.map((m) => `--${m}`).join(', ')}\n\n${USAGE}`);
    return 2;
  }
  try {
    await importFromSvix({ serverUrl: values['server-url']!, token: values.token!, heraldUrl: values['herald-url']!, heraldToken: values['herald-token']!, log: out });
    return 0;
  } catch (error) {
    // The SDK's errors carry the HTTP status and Svix's {code, detail}; never the tokens.
    const e = error as { code?: unknown; body?: unknown; message?: string };
    err(`import failed: ${typeof e.code === 'number' ? `HTTP ${e.code} ${JSON.stringify(e.body)}` : e.message}`);
    return 1;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => process.exit(code));
}

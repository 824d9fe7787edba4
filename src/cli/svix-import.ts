import { ApiException, ApplicationOut, EndpointOut, EventTypeOut, Svix } from 'svix';

/** Where to copy from and to: both speak Svix's API (Herald's is /api/v1 on its own URL). */
export interface SvixImportOptions {
  serverUrl: string;
  token: string;
  heraldUrl: string;
  heraldToken: string;
  /** One line per application and the summary; stdout in the CLI. */
  log: (line: string) => void;
}

export interface SvixImportSummary {
  applications: { created: number; updated: number };
  endpoints: { created: number; updated: number };
  eventTypes: { created: number; updated: number };
}

async function* all<T>(page: (iterator: string | undefined) => Promise<{ data: T[]; iterator?: string | null; done: boolean }>): AsyncGenerator<T> {
  let iterator: string | undefined;
  for (;;) {
    const result = await page(iterator);
    yield* result.data;
    if (result.done || !result.iterator || result.data.length === 0) return;
    iterator = result.iterator;
  }
}

const isMissing = (error: unknown) => error instanceof ApiException && error.code === 404;

async function orNull<T>(call: Promise<T>): Promise<T | null> {
  try {
    return await call;
  } catch (error) {
    if (isMissing(error)) return null;
    throw error;
  }
}

/**
 * The uid an object keeps in Herald: its own uid, else its Svix id under a `svix-` prefix (Herald's ids are
 * its own; the prefix keeps a Svix `ep_…` id from being read as one). Running the import again finds it by that.
 */
export function importedUid(object: { uid?: string | null; id: string }): string {
  return object.uid ?? `svix-${object.id}`;
}

/**
 * Copies event types, applications and their endpoints (secrets, headers, filter types, channels, rate
 * limits) from a Svix server into Herald through Herald's Svix-compatible API. Idempotent: objects are
 * matched by name and uid, updated in place when they exist, so a second run adds nothing.
 */
export async function importFromSvix(options: SvixImportOptions): Promise<SvixImportSummary> {
  const source = new Svix(options.token, { serverUrl: options.serverUrl });
  const target = new Svix(options.heraldToken, { serverUrl: options.heraldUrl });
  const summary: SvixImportSummary = { applications: { created: 0, updated: 0 }, endpoints: { created: 0, updated: 0 }, eventTypes: { created: 0, updated: 0 } };

  for await (const type of all<EventTypeOut>((iterator) => source.eventType.list({ iterator, limit: 250, includeArchived: true, withContent: true }))) {
    const existing = await orNull(target.eventType.get(type.name));
    await target.eventType.update(type.name, { description: type.description, schemas: type.schemas, archived: type.archived, deprecated: type.deprecated });
    summary.eventTypes[existing ? 'updated' : 'created']++;
  }
  options.log(`event types: ${summary.eventTypes.created} created, ${summary.eventTypes.updated} updated`);

  for await (const app of all<ApplicationOut>((iterator) => source.application.list({ iterator, limit: 250 }))) {
    const uid = importedUid(app);
    const fields = { name: app.name, uid, metadata: app.metadata, throttleRate: app.throttleRate ?? app.rateLimit ?? null };
    const existing = await orNull(target.application.get(uid));
    const copy = existing ? await target.application.update(existing.id, fields) : await target.application.create(fields);
    summary.applications[existing ? 'updated' : 'created']++;
    const counts = await importEndpoints(source, target, app.id, copy.id, summary);
    options.log(`application ${uid} (${app.name}): ${existing ? 'updated' : 'created'}; endpoints ${counts.created} created, ${counts.updated} updated`);
  }

  const { applications: a, endpoints: e, eventTypes: t } = summary;
  options.log(`done: applications ${a.created} created, ${a.updated} updated; endpoints ${e.created} created, ${e.updated} updated; event types ${t.created} created, ${t.updated} updated`);
  return summary;
}

async function importEndpoints(source: Svix, target: Svix, sourceApp: string, targetApp: string, summary: SvixImportSummary): Promise<{ created: number; updated: number }> {
  const counts = { created: 0, updated: 0 };
  for await (const endpoint of all<EndpointOut>((iterator) => source.endpoint.list(sourceApp, { iterator, limit: 250 }))) {
    const uid = importedUid(endpoint);
    const [secret, headers] = await Promise.all([source.endpoint.getSecret(sourceApp, endpoint.id), source.endpoint.getHeaders(sourceApp, endpoint.id)]);
    const fields = {
      url: endpoint.url,
      uid,
      description: endpoint.description,
      filterTypes: endpoint.filterTypes ?? null,
      channels: endpoint.channels ?? null,
      disabled: endpoint.disabled ?? false,
      throttleRate: endpoint.throttleRate ?? endpoint.rateLimit ?? null,
      metadata: endpoint.metadata,
    };
    const existing = await orNull(target.endpoint.get(targetApp, uid));
    if (existing) {
      await target.endpoint.update(targetApp, existing.id, fields);
      await target.endpoint.updateHeaders(targetApp, existing.id, { headers: headers.headers });
      // The same secret keeps receivers verifying; only a changed one is rotated in (the old one signs 24 h more).
      if ((await target.endpoint.getSecret(targetApp, existing.id)).key !== secret.key) await target.endpoint.rotateSecret(targetApp, existing.id, { key: secret.key });
    } else {
      await target.endpoint.create(targetApp, { ...fields, secret: secret.key, headers: headers.headers });
    }
    counts[existing ? 'updated' : 'created']++;
    summary.endpoints[existing ? 'updated' : 'created']++;
  }
  return counts;
}

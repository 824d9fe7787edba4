/** How a source proves that an inbound request really comes from its provider. */
export type VerifierConfig =
  | { type: 'standard-webhooks'; secret: string } // whsec_<base64>; also accepts the svix-* header variant
  | { type: 'stripe'; secret: string } // whsec_... ; key is the whole string
  | { type: 'github'; secret: string }
  | { type: 'shopify'; secret: string }
  | { type: 'slack'; secret: string }
  | {
      type: 'hmac';
      secret: string;
      header: string;
      algorithm: 'sha1' | 'sha256' | 'sha512';
      encoding: 'hex' | 'base64';
      prefix?: string;
    }
  | { type: 'basic'; username: string; password: string }
  | { type: 'api-key'; header: string; value: string }
  | { type: 'none' };

export type VerifierType = VerifierConfig['type'];

/** The config of one verifier type, e.g. `ConfigOf<'stripe'>`. */
export type ConfigOf<T extends VerifierType> = Extract<VerifierConfig, { type: T }>;

/** Header names are lower-case. `now` is passed in so verification stays pure. */
export interface InboundRequest {
  headers: Record<string, string | string[] | undefined>;
  rawBody: Buffer;
  now: Date;
}

/** `reason` is short and human-readable; it never contains the secret. */
export type Verification =
  | { ok: true; eventType?: string; providerEventId?: string }
  | { ok: false; reason: string };

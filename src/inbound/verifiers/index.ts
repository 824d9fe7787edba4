import { verifyApiKey } from './api-key.verifier';
import { BASIC_SENSITIVE_HEADERS, verifyBasic } from './basic.verifier';
import { GITHUB_SENSITIVE_HEADERS, verifyGithub } from './github.verifier';
import { verifyHmac } from './hmac.verifier';
import { SHOPIFY_SENSITIVE_HEADERS, verifyShopify } from './shopify.verifier';
import { SLACK_SENSITIVE_HEADERS, verifySlack } from './slack.verifier';
import { STANDARD_WEBHOOKS_SENSITIVE_HEADERS, verifyStandardWebhooks } from './standard-webhooks.verifier';
import { STRIPE_SENSITIVE_HEADERS, verifyStripe } from './stripe.verifier';
import { InboundRequest, Verification, VerifierConfig, VerifierType } from './verifier.types';

export * from './verifier.types';

/** Credentials that may reach any source, whatever its verifier; forwarding them would leak them to endpoints. */
const ALWAYS_SENSITIVE = ['authorization', 'proxy-authorization', 'cookie'];

/** Fixed signature/auth headers per verifier type; `hmac` and `api-key` add their configured header. */
export const SENSITIVE_HEADERS: Readonly<Record<VerifierType, readonly string[]>> = {
  'standard-webhooks': STANDARD_WEBHOOKS_SENSITIVE_HEADERS,
  stripe: STRIPE_SENSITIVE_HEADERS,
  github: GITHUB_SENSITIVE_HEADERS,
  shopify: SHOPIFY_SENSITIVE_HEADERS,
  slack: SLACK_SENSITIVE_HEADERS,
  hmac: [],
  basic: BASIC_SENSITIVE_HEADERS,
  'api-key': [],
  none: [],
};

/** Lower-case names of the headers that must never be forwarded for a source with this verifier. */
export function sensitiveHeaders(config: VerifierConfig): string[] {
  const configured = config.type === 'hmac' || config.type === 'api-key' ? [config.header.toLowerCase()] : [];
  return [...new Set([...ALWAYS_SENSITIVE, ...(SENSITIVE_HEADERS[config.type] ?? []), ...configured])];
}

/** Verifies an inbound request against its source's verifier. Never throws: any failure is `{ok: false}`. */
export function verifyInbound(config: VerifierConfig, req: InboundRequest): Verification {
  try {
    return dispatch(config, req);
  } catch {
    // Configs come from storage and may be malformed (e.g. a missing secret); fail closed, without details.
    return { ok: false, reason: 'verifier configuration error' };
  }
}

function dispatch(config: VerifierConfig, req: InboundRequest): Verification {
  switch (config.type) {
    case 'standard-webhooks':
      return verifyStandardWebhooks(config, req);
    case 'stripe':
      return verifyStripe(config, req);
    case 'github':
      return verifyGithub(config, req);
    case 'shopify':
      return verifyShopify(config, req);
    case 'slack':
      return verifySlack(config, req);
    case 'hmac':
      return verifyHmac(config, req);
    case 'basic':
      return verifyBasic(config, req);
    case 'api-key':
      return verifyApiKey(config, req);
    case 'none':
      return { ok: true };
    default:
      return { ok: false, reason: `unknown verifier type ${String((config as { type: unknown }).type)}` };
  }
}

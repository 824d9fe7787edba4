import { arrayMaxSize, arrayMinSize, isObject, isString, length, matches } from 'class-validator';
import { CHANNEL_PATTERN } from '../../endpoints/subscription';
import { EVENT_TYPE_PATTERN } from '../../endpoints/event-type-filter';
import { checkPlainly } from '../../common/validation';
import { MAX_BATCH_EVENTS, ORDERING_KEY_PATTERN, PublishBatchDto, PublishEventDto } from './event.dto';

/*
 * The publish routes' bodies checked with class-validator's own predicates, without its metadata walk and without
 * class-transformer's copies (see checkPlainly). Anything these functions do not accept goes through the pipe as
 * before, which then names the field: a null optional field, an unknown field, any bad value.
 */

const EVENT_FIELDS = new Set(['eventType', 'payload', 'idempotencyKey', 'orderingKey', 'channels']);
const BATCH_FIELDS = new Set(['events']);

const onlyKnown = (body: object, fields: Set<string>) => Object.keys(body).every((key) => fields.has(key));

/** PublishEventDto's decorators, one by one; the payload stays the object the body parser made. */
export function plainPublishEvent(body: unknown): PublishEventDto | undefined {
  if (!isObject(body) || !onlyKnown(body, EVENT_FIELDS)) return undefined;
  const { eventType, payload, idempotencyKey, orderingKey, channels } = body as Record<string, unknown>;
  if (!isString(eventType) || !matches(eventType, EVENT_TYPE_PATTERN)) return undefined;
  if (!isObject(payload)) return undefined;
  if (idempotencyKey !== undefined && !(isString(idempotencyKey) && length(idempotencyKey, 1, 256))) return undefined;
  if (orderingKey !== undefined && !(isString(orderingKey) && matches(orderingKey, ORDERING_KEY_PATTERN))) return undefined;
  if (channels !== undefined && !(Array.isArray(channels) && arrayMaxSize(channels, 10) && channels.every((c) => isString(c) && matches(c, CHANNEL_PATTERN)))) {
    return undefined;
  }
  return Object.assign(new PublishEventDto(), body);
}

/** PublishBatchDto: 1 to MAX_BATCH_EVENTS events, each one plainly valid. */
export function plainPublishBatch(body: unknown): PublishBatchDto | undefined {
  if (!isObject(body) || !onlyKnown(body, BATCH_FIELDS)) return undefined;
  const { events } = body as Record<string, unknown>;
  if (!Array.isArray(events) || !arrayMinSize(events, 1) || !arrayMaxSize(events, MAX_BATCH_EVENTS)) return undefined;
  const checked: PublishEventDto[] = new Array(events.length);
  for (let i = 0; i < events.length; i++) {
    const event = plainPublishEvent(events[i]);
    if (!event) return undefined;
    checked[i] = event;
  }
  return Object.assign(new PublishBatchDto(), { events: checked });
}

checkPlainly(PublishEventDto, plainPublishEvent);
checkPlainly(PublishBatchDto, plainPublishBatch);

import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiProperty, ApiPropertyOptional, ApiResponse } from '@nestjs/swagger';

export class FieldProblemView {
  @ApiProperty({ example: 'eventType' }) field: string;
  @ApiProperty({ example: 'eventType must match ^[A-Za-z0-9_.:-]{1,128}$' }) message: string;
}

/** The one error body every route answers with. */
export class ErrorView {
  @ApiProperty({ example: 400 }) statusCode: number;
  @ApiProperty({ example: 'Bad Request' }) error: string;
  @ApiProperty({ example: 'eventType: eventType must match ^[A-Za-z0-9_.:-]{1,128}$' }) message: string;
  @ApiPropertyOptional({ type: [FieldProblemView], description: 'one entry per bad field' }) details?: FieldProblemView[];
  @ApiProperty({
    example: '3f1c2a9e-6f0b-4a3c-9d1e-0c2b7a6e5f41',
    description: "this request's id, also in the x-request-id header (the caller's own x-request-id when it is 1-128 characters of A-Z a-z 0-9 . _ : = / + @ -): quote it to find the request in the service's log",
  })
  requestId: string;
}

/** The errors every authenticated route may answer. */
export function ApiErrors() {
  return applyDecorators(
    ApiExtraModels(ErrorView),
    ApiResponse({ status: 400, description: 'invalid input: every bad field is named in details; nothing was changed', type: ErrorView }),
    ApiResponse({ status: 401, description: 'no key, or a wrong key', type: ErrorView }),
    ApiResponse({ status: 403, description: 'a tenant key on an admin-only route, or a portal link without the route\'s capability', type: ErrorView }),
    ApiResponse({ status: 404, description: 'unknown id, or another tenant\'s', type: ErrorView }),
    ApiResponse({ status: 413, description: 'the request body is larger than the route allows (HERALD_MAX_BODY_BYTES; publishing: HERALD_MAX_PAYLOAD_BYTES)', type: ErrorView }),
    ApiResponse({ status: 422, description: 'the request asks for more than a configured limit allows; the field and the setting are named; retrying cannot succeed (no Retry-After)', type: ErrorView }),
    ApiResponse({ status: 503, description: 'PostgreSQL is unreachable, or (publishing) this process is overloaded past HERALD_PUBLISH_QUEUE_LIMIT; nothing was stored; retry after Retry-After', type: ErrorView }),
  );
}

import { Type, applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, getSchemaPath } from '@nestjs/swagger';

/** Documents a list answer, `{data: [Model], nextCursor}`, so clients generated from the OpenAPI document are typed. */
export function ApiPage(model: Type<unknown>, options: { cursor?: boolean } = {}) {
  return applyDecorators(
    ApiExtraModels(model),
    ApiOkResponse({
      schema: {
        type: 'object',
        required: options.cursor === false ? ['data'] : ['data', 'nextCursor'],
        properties: {
          data: { type: 'array', items: { $ref: getSchemaPath(model) } },
          ...(options.cursor === false ? {} : { nextCursor: { type: 'string', nullable: true, description: 'pass as `cursor` for the next page; null on the last' } }),
        },
      },
    }),
  );
}

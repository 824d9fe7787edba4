import { Controller, HttpCode, Param, Post, RawBodyRequest, Req } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { Public } from '../access/access.decorators';
import { InboundAcceptedView } from './dto/source.dto';
import { InboundService } from './inbound.service';

@ApiTags('inbound')
@Controller('in')
export class InboundController {
  constructor(private readonly inbound: InboundService) {}

  /** The body is never parsed here: bootstrap's content-type parsers keep the raw bytes of /in/* requests. */
  @Post(':sourceId')
  @Public()
  @HttpCode(200)
  @ApiOperation({
    summary: "A third party's webhook",
    description:
      'No bearer key: the source\'s verifier authenticates the raw body. 200 once the event is stored (delivery happens after); ' +
      'a provider retry of an event already received (same provider event id, within 24 h) is 200 with duplicate: true and is not delivered again. ' +
      '401 when the signature is bad or missing (nothing stored), 404 for an unknown source, 413 above HERALD_MAX_PAYLOAD_BYTES.',
  })
  receive(@Param('sourceId') sourceId: string, @Req() req: RawBodyRequest<FastifyRequest>): Promise<InboundAcceptedView> {
    return this.inbound.receive(sourceId, { headers: req.headers, rawBody: req.rawBody ?? Buffer.alloc(0) });
  }
}

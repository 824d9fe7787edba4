import { MigrationInterface, QueryRunner } from "typeorm";

export class Observability1795680000000 implements MigrationInterface {
    name = 'Observability1795680000000'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "events" ADD "trace_context" character varying(55)`);
        await queryRunner.query(`ALTER TABLE "endpoints" ADD "send_traceparent" boolean NOT NULL DEFAULT false`);
        await queryRunner.query(`CREATE INDEX "deliveries_dead_idx" ON "deliveries" ("tenant_id", "endpoint_id") WHERE status = 'dead'`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP INDEX "public"."deliveries_dead_idx"`);
        await queryRunner.query(`ALTER TABLE "endpoints" DROP COLUMN "send_traceparent"`);
        await queryRunner.query(`ALTER TABLE "events" DROP COLUMN "trace_context"`);
    }

}

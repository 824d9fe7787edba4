import { MigrationInterface, QueryRunner } from "typeorm";

export class SvixCompatibility1795679220996 implements MigrationInterface {
    name = 'SvixCompatibility1795679220996'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "api_idempotency" ("principal" character varying(64) NOT NULL, "key" character varying(256) NOT NULL, "request_hash" character varying(64) NOT NULL, "status_code" integer, "response" jsonb, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_2a00eee523c1dfa255f72d452dc" PRIMARY KEY ("principal", "key"))`);
        await queryRunner.query(`CREATE INDEX "api_idempotency_created_at_idx" ON "api_idempotency" ("created_at") `);
        await queryRunner.query(`ALTER TABLE "tenants" ADD "endpoint_rate_limit_per_second" integer`);
        await queryRunner.query(`ALTER TABLE "events" ADD "channels" text array`);
        await queryRunner.query(`ALTER TABLE "endpoints" ADD "uid" character varying(256)`);
        await queryRunner.query(`ALTER TABLE "endpoints" ADD "channels" text array NOT NULL DEFAULT '{}'`);
        await queryRunner.query(`ALTER TABLE "endpoints" ADD "signature_headers" character varying(16) NOT NULL DEFAULT 'webhook'`);
        await queryRunner.query(`CREATE UNIQUE INDEX "endpoints_tenant_uid_key" ON "endpoints" ("tenant_id", "uid") WHERE uid IS NOT NULL AND deleted_at IS NULL`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP INDEX "public"."endpoints_tenant_uid_key"`);
        await queryRunner.query(`ALTER TABLE "endpoints" DROP COLUMN "signature_headers"`);
        await queryRunner.query(`ALTER TABLE "endpoints" DROP COLUMN "channels"`);
        await queryRunner.query(`ALTER TABLE "endpoints" DROP COLUMN "uid"`);
        await queryRunner.query(`ALTER TABLE "events" DROP COLUMN "channels"`);
        await queryRunner.query(`ALTER TABLE "tenants" DROP COLUMN "endpoint_rate_limit_per_second"`);
        await queryRunner.query(`DROP INDEX "public"."api_idempotency_created_at_idx"`);
        await queryRunner.query(`DROP TABLE "api_idempotency"`);
    }

}

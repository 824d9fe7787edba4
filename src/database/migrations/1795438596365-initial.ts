import { MigrationInterface, QueryRunner } from "typeorm";

export class Initial1795438596365 implements MigrationInterface {
    name = 'Initial1795438596365'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "tenants" ("id" character varying(40) NOT NULL, "uid" character varying(256), "name" character varying(256) NOT NULL, "metadata" jsonb NOT NULL DEFAULT '{}', "publish_rate_limit_per_second" integer, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_53be67a04681c66b87ee27c9321" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE UNIQUE INDEX "tenants_uid_key" ON "tenants" ("uid") `);
        await queryRunner.query(`CREATE TABLE "api_keys" ("id" character varying(40) NOT NULL, "tenant_id" character varying(40) NOT NULL, "key_hash" character(64) NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_5c8a79801b44bd27b79228e1dad" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "api_keys_tenant_id_idx" ON "api_keys" ("tenant_id") `);
        await queryRunner.query(`CREATE UNIQUE INDEX "api_keys_key_hash_key" ON "api_keys" ("key_hash") `);
        await queryRunner.query(`CREATE TABLE "events" ("id" character varying(40) NOT NULL, "tenant_id" character varying(40) NOT NULL, "event_type" character varying(128) NOT NULL, "payload" text NOT NULL, "idempotency_key" character varying(256), "source_headers" jsonb, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_40731c7151fe4be3116e45ddf73" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "events_created_at_idx" ON "events" ("created_at") `);
        await queryRunner.query(`CREATE UNIQUE INDEX "events_tenant_idempotency_key" ON "events" ("tenant_id", "idempotency_key") WHERE idempotency_key IS NOT NULL`);
        await queryRunner.query(`CREATE INDEX "events_tenant_id_id_idx" ON "events" ("tenant_id", "id") `);
        await queryRunner.query(`CREATE TABLE "deliveries" ("id" character varying(40) NOT NULL, "tenant_id" character varying(40) NOT NULL, "event_id" character varying(40) NOT NULL, "endpoint_id" character varying(40) NOT NULL, "event_type" character varying(128) NOT NULL, "status" character varying(16) NOT NULL DEFAULT 'pending', "attempt_count" integer NOT NULL DEFAULT '0', "next_attempt_at" TIMESTAMP WITH TIME ZONE, "next_trigger" character varying(16) NOT NULL DEFAULT 'initial', "last_status_code" integer, "last_error" text, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_a6ef225c5c5f0974e503bfb731f" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "deliveries_pending_due_idx" ON "deliveries" ("next_attempt_at") WHERE status = 'pending'`);
        await queryRunner.query(`CREATE INDEX "deliveries_event_id_idx" ON "deliveries" ("event_id") `);
        await queryRunner.query(`CREATE INDEX "deliveries_endpoint_id_id_idx" ON "deliveries" ("endpoint_id", "id") `);
        await queryRunner.query(`CREATE INDEX "deliveries_tenant_id_id_idx" ON "deliveries" ("tenant_id", "id") `);
        await queryRunner.query(`CREATE TABLE "attempts" ("id" character varying(40) NOT NULL, "delivery_id" character varying(40) NOT NULL, "endpoint_id" character varying(40) NOT NULL, "attempt_number" integer NOT NULL, "trigger" character varying(16) NOT NULL, "started_at" TIMESTAMP WITH TIME ZONE NOT NULL, "duration_ms" integer NOT NULL, "status_code" integer, "response_body" text, "response_headers" jsonb, "error" text, CONSTRAINT "PK_295ca261e361fd2fd217754dcac" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "attempts_started_at_idx" ON "attempts" ("started_at") `);
        await queryRunner.query(`CREATE INDEX "attempts_delivery_id_number_idx" ON "attempts" ("delivery_id", "attempt_number") `);
        await queryRunner.query(`CREATE TABLE "endpoints" ("id" character varying(40) NOT NULL, "tenant_id" character varying(40) NOT NULL, "url" text NOT NULL, "description" text NOT NULL DEFAULT '', "event_types" text array NOT NULL DEFAULT '{}', "secret_sealed" text NOT NULL, "retired_secrets" jsonb NOT NULL DEFAULT '[]', "disabled" boolean NOT NULL DEFAULT false, "disabled_reason" character varying(16), "rate_limit_per_second" integer, "max_in_flight" integer, "timeout_ms" integer NOT NULL DEFAULT '15000', "retry_policy" jsonb NOT NULL, "headers" jsonb NOT NULL DEFAULT '{}', "metadata" jsonb NOT NULL DEFAULT '{}', "consecutive_failures" integer NOT NULL DEFAULT '0', "failing_since" TIMESTAMP WITH TIME ZONE, "deleted_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_70835610dfa54ad5d990e02f70a" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "endpoints_tenant_id_id_idx" ON "endpoints" ("tenant_id", "id") `);
        await queryRunner.query(`ALTER TABLE "api_keys" ADD CONSTRAINT "FK_3ac18429c8d27858d79432e0dda" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "events" ADD CONSTRAINT "FK_098a5d310151924de7369f1336a" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "deliveries" ADD CONSTRAINT "FK_6a9b04f909fedcc6438b48b90c1" FOREIGN KEY ("event_id") REFERENCES "events"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "attempts" ADD CONSTRAINT "FK_a6da25fd460a32f032f5e4b4139" FOREIGN KEY ("delivery_id") REFERENCES "deliveries"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "endpoints" ADD CONSTRAINT "FK_53dd172d8ce79813e85b6a12bfa" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "endpoints" DROP CONSTRAINT "FK_53dd172d8ce79813e85b6a12bfa"`);
        await queryRunner.query(`ALTER TABLE "attempts" DROP CONSTRAINT "FK_a6da25fd460a32f032f5e4b4139"`);
        await queryRunner.query(`ALTER TABLE "deliveries" DROP CONSTRAINT "FK_6a9b04f909fedcc6438b48b90c1"`);
        await queryRunner.query(`ALTER TABLE "events" DROP CONSTRAINT "FK_098a5d310151924de7369f1336a"`);
        await queryRunner.query(`ALTER TABLE "api_keys" DROP CONSTRAINT "FK_3ac18429c8d27858d79432e0dda"`);
        await queryRunner.query(`DROP INDEX "public"."endpoints_tenant_id_id_idx"`);
        await queryRunner.query(`DROP TABLE "endpoints"`);
        await queryRunner.query(`DROP INDEX "public"."attempts_delivery_id_number_idx"`);
        await queryRunner.query(`DROP INDEX "public"."attempts_started_at_idx"`);
        await queryRunner.query(`DROP TABLE "attempts"`);
        await queryRunner.query(`DROP INDEX "public"."deliveries_tenant_id_id_idx"`);
        await queryRunner.query(`DROP INDEX "public"."deliveries_endpoint_id_id_idx"`);
        await queryRunner.query(`DROP INDEX "public"."deliveries_event_id_idx"`);
        await queryRunner.query(`DROP INDEX "public"."deliveries_pending_due_idx"`);
        await queryRunner.query(`DROP TABLE "deliveries"`);
        await queryRunner.query(`DROP INDEX "public"."events_tenant_id_id_idx"`);
        await queryRunner.query(`DROP INDEX "public"."events_tenant_idempotency_key"`);
        await queryRunner.query(`DROP INDEX "public"."events_created_at_idx"`);
        await queryRunner.query(`DROP TABLE "events"`);
        await queryRunner.query(`DROP INDEX "public"."api_keys_key_hash_key"`);
        await queryRunner.query(`DROP INDEX "public"."api_keys_tenant_id_idx"`);
        await queryRunner.query(`DROP TABLE "api_keys"`);
        await queryRunner.query(`DROP INDEX "public"."tenants_uid_key"`);
        await queryRunner.query(`DROP TABLE "tenants"`);
    }

}

import { MigrationInterface, QueryRunner } from "typeorm";

export class Replays1795680432747 implements MigrationInterface {
    name = 'Replays1795680432747'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "replays" ("id" character varying(40) NOT NULL, "tenant_id" character varying(40) NOT NULL, "endpoint_id" character varying(40), "since" TIMESTAMP WITH TIME ZONE NOT NULL, "until" TIMESTAMP WITH TIME ZONE NOT NULL, "event_types" text array, "statuses" text array NOT NULL, "missing" boolean NOT NULL DEFAULT false, "status" character varying(16) NOT NULL, "total" integer NOT NULL, "done" integer NOT NULL DEFAULT '0', "queued" integer NOT NULL DEFAULT '0', "position" character varying(40), "error" text, "lease_until" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "finished_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_25cfbee6682178c5c90149cbb3a" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "replays_running_idx" ON "replays" ("id") WHERE status = 'running'`);
        await queryRunner.query(`CREATE INDEX "replays_tenant_id_id_idx" ON "replays" ("tenant_id", "id") `);
        await queryRunner.query(`ALTER TABLE "replays" ADD CONSTRAINT "FK_9ea470667631dab20e02751c89c" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "replays" DROP CONSTRAINT "FK_9ea470667631dab20e02751c89c"`);
        await queryRunner.query(`DROP INDEX "public"."replays_tenant_id_id_idx"`);
        await queryRunner.query(`DROP INDEX "public"."replays_running_idx"`);
        await queryRunner.query(`DROP TABLE "replays"`);
    }

}

import { MigrationInterface, QueryRunner } from "typeorm";

export class StatsRollup1795695000000 implements MigrationInterface {
    name = 'StatsRollup1795695000000'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "endpoint_stat_granules" ("endpoint_id" character varying(40) NOT NULL, "start" TIMESTAMP WITH TIME ZONE NOT NULL, "attempts" integer NOT NULL, "succeeded" integer NOT NULL, "latency_buckets" integer array NOT NULL, "latency_counts" integer array NOT NULL, "deliveries" integer NOT NULL, CONSTRAINT "PK_e0260c0f562d47fdf2112bcba6a" PRIMARY KEY ("endpoint_id", "start"))`);
        await queryRunner.query(`CREATE TABLE "endpoint_stat_marks" ("endpoint_id" character varying(40) NOT NULL, "rolled_from" TIMESTAMP WITH TIME ZONE NOT NULL, "rolled_to" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_0119ca9774a90c89d397c100171" PRIMARY KEY ("endpoint_id"))`);
        await queryRunner.query(`CREATE INDEX "deliveries_unsettled_idx" ON "deliveries" ("endpoint_id", "id", "tenant_id", "status", "created_at", "next_attempt_at") WHERE status <> 'succeeded'`);
        await queryRunner.query(`ALTER TABLE "endpoint_stat_granules" ADD CONSTRAINT "FK_4af5623ea98d13fedce72bfcca1" FOREIGN KEY ("endpoint_id") REFERENCES "endpoints"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "endpoint_stat_marks" ADD CONSTRAINT "FK_0119ca9774a90c89d397c100171" FOREIGN KEY ("endpoint_id") REFERENCES "endpoints"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "endpoint_stat_marks" DROP CONSTRAINT "FK_0119ca9774a90c89d397c100171"`);
        await queryRunner.query(`ALTER TABLE "endpoint_stat_granules" DROP CONSTRAINT "FK_4af5623ea98d13fedce72bfcca1"`);
        await queryRunner.query(`DROP INDEX "public"."deliveries_unsettled_idx"`);
        await queryRunner.query(`DROP TABLE "endpoint_stat_marks"`);
        await queryRunner.query(`DROP TABLE "endpoint_stat_granules"`);
    }

}

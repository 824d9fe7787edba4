import { MigrationInterface, QueryRunner } from "typeorm";

/** Ordered delivery by key: endpoints.ordering, the deliveries' place in their line, and the lines' counters. */
export class Ordering1795696000000 implements MigrationInterface {
    name = 'Ordering1795696000000'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "ordering_lines" ("endpoint_id" character varying(40) NOT NULL, "ordering_key" character varying(256) NOT NULL, "last_seq" bigint NOT NULL DEFAULT '0', "last_event_id" character varying(40), "previous_event_id" character varying(40), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_bd23fb3c7b3b1080b8b63bb30d9" PRIMARY KEY ("endpoint_id", "ordering_key"))`);
        // Nullable columns without defaults: adding them rewrites nothing, however many deliveries there are.
        await queryRunner.query(`ALTER TABLE "deliveries" ADD "ordering_key" character varying(256)`);
        await queryRunner.query(`ALTER TABLE "deliveries" ADD "ordering_seq" bigint`);
        await queryRunner.query(`ALTER TABLE "deliveries" ADD "ordering_after" character varying(40)`);
        await queryRunner.query(`ALTER TABLE "endpoints" ADD "ordering" character varying(8) NOT NULL DEFAULT 'none'`);
        await queryRunner.query(`CREATE INDEX "deliveries_line_waiting_idx" ON "deliveries" ("endpoint_id", "ordering_key", "ordering_seq") WHERE status = 'pending' AND ordering_seq IS NOT NULL`);
        await queryRunner.query(`ALTER TABLE "ordering_lines" ADD CONSTRAINT "FK_649d99a256936ee9eee68cec53b" FOREIGN KEY ("endpoint_id") REFERENCES "endpoints"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "ordering_lines" DROP CONSTRAINT "FK_649d99a256936ee9eee68cec53b"`);
        await queryRunner.query(`DROP INDEX "public"."deliveries_line_waiting_idx"`);
        await queryRunner.query(`ALTER TABLE "endpoints" DROP COLUMN "ordering"`);
        await queryRunner.query(`ALTER TABLE "deliveries" DROP COLUMN "ordering_after"`);
        await queryRunner.query(`ALTER TABLE "deliveries" DROP COLUMN "ordering_seq"`);
        await queryRunner.query(`ALTER TABLE "deliveries" DROP COLUMN "ordering_key"`);
        await queryRunner.query(`DROP TABLE "ordering_lines"`);
    }

}

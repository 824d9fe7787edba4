import { MigrationInterface, QueryRunner } from "typeorm";

export class AttemptsByEndpoint1795443315417 implements MigrationInterface {
    name = 'AttemptsByEndpoint1795443315417'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE INDEX "attempts_endpoint_started_idx" ON "attempts" ("endpoint_id", "started_at") `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP INDEX "public"."attempts_endpoint_started_idx"`);
    }

}

import { MigrationInterface, QueryRunner } from "typeorm";

export class EndpointHealth1795440812385 implements MigrationInterface {
    name = 'EndpointHealth1795440812385'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "endpoints" ADD "circuit_phase" character varying(16)`);
        await queryRunner.query(`ALTER TABLE "endpoints" ADD "circuit_until" TIMESTAMP WITH TIME ZONE`);
        await queryRunner.query(`ALTER TABLE "endpoints" ADD "circuit_cooldown_ms" integer`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "endpoints" DROP COLUMN "circuit_cooldown_ms"`);
        await queryRunner.query(`ALTER TABLE "endpoints" DROP COLUMN "circuit_until"`);
        await queryRunner.query(`ALTER TABLE "endpoints" DROP COLUMN "circuit_phase"`);
    }

}

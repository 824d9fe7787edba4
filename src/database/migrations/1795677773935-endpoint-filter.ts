import { MigrationInterface, QueryRunner } from "typeorm";

export class EndpointFilter1795677773935 implements MigrationInterface {
    name = 'EndpointFilter1795677773935'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "endpoints" ADD "filter" jsonb`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "endpoints" DROP COLUMN "filter"`);
    }

}

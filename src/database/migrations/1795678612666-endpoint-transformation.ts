import { MigrationInterface, QueryRunner } from "typeorm";

export class EndpointTransformation1795678612666 implements MigrationInterface {
    name = 'EndpointTransformation1795678612666'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "endpoints" ADD "transformation" text`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "endpoints" DROP COLUMN "transformation"`);
    }

}

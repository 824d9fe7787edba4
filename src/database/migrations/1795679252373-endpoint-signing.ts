import { MigrationInterface, QueryRunner } from "typeorm";

export class EndpointSigning1795679252373 implements MigrationInterface {
    name = 'EndpointSigning1795679252373'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "endpoints" ADD "signing" character varying(16) NOT NULL DEFAULT 'hmac'`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "endpoints" DROP COLUMN "signing"`);
    }

}

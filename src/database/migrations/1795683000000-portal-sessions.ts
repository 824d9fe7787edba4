import { MigrationInterface, QueryRunner } from "typeorm";

export class PortalSessions1795683000000 implements MigrationInterface {
    name = 'PortalSessions1795683000000'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "portal_sessions" ("id" character varying(40) NOT NULL, "tenant_id" character varying(40) NOT NULL, "token_hash" character(64) NOT NULL, "capabilities" character varying(32) array NOT NULL, "endpoint_ids" character varying(40) array, "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, "revoked_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_379dfbd23aa9d6e2503df20cb3d" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE UNIQUE INDEX "portal_sessions_token_hash_key" ON "portal_sessions" ("token_hash") `);
        await queryRunner.query(`CREATE INDEX "portal_sessions_tenant_id_id_idx" ON "portal_sessions" ("tenant_id", "id") `);
        await queryRunner.query(`ALTER TABLE "portal_sessions" ADD CONSTRAINT "FK_feffb17879b62e9794bde9ebeb0" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "portal_sessions" DROP CONSTRAINT "FK_feffb17879b62e9794bde9ebeb0"`);
        await queryRunner.query(`DROP INDEX "public"."portal_sessions_tenant_id_id_idx"`);
        await queryRunner.query(`DROP INDEX "public"."portal_sessions_token_hash_key"`);
        await queryRunner.query(`DROP TABLE "portal_sessions"`);
    }

}

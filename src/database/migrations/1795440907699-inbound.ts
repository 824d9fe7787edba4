import { MigrationInterface, QueryRunner } from "typeorm";

export class Inbound1795440907699 implements MigrationInterface {
    name = 'Inbound1795440907699'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "sources" ("id" character varying(40) NOT NULL, "tenant_id" character varying(40) NOT NULL, "name" character varying(128) NOT NULL, "event_type" character varying(128), "verifier_type" character varying(32) NOT NULL, "verifier_settings" jsonb NOT NULL DEFAULT '{}', "verifier_sealed" text NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_85523beafe5a2a6b90b02096443" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "sources_tenant_id_id_idx" ON "sources" ("tenant_id", "id") `);
        await queryRunner.query(`CREATE TABLE "source_requests" ("id" character varying(40) NOT NULL, "tenant_id" character varying(40) NOT NULL, "source_id" character varying(40) NOT NULL, "received_at" TIMESTAMP WITH TIME ZONE NOT NULL, "accepted" boolean NOT NULL, "status_code" integer NOT NULL, "reason" text, "event_id" character varying(40), "event_type" character varying(128), "provider_event_id" character varying(256), "duplicate" boolean NOT NULL DEFAULT false, "content_type" character varying(256), "body_bytes" integer NOT NULL, CONSTRAINT "PK_1eeb5cc85795084d4d77ddfd81a" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "source_requests_source_id_id_idx" ON "source_requests" ("source_id", "id") `);
        await queryRunner.query(`ALTER TABLE "sources" ADD CONSTRAINT "FK_5f5a82b3c01204d3a32632dbdce" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "source_requests" ADD CONSTRAINT "FK_aace785dcc0645aa3f253e1cc93" FOREIGN KEY ("source_id") REFERENCES "sources"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "source_requests" DROP CONSTRAINT "FK_aace785dcc0645aa3f253e1cc93"`);
        await queryRunner.query(`ALTER TABLE "sources" DROP CONSTRAINT "FK_5f5a82b3c01204d3a32632dbdce"`);
        await queryRunner.query(`DROP INDEX "public"."source_requests_source_id_id_idx"`);
        await queryRunner.query(`DROP TABLE "source_requests"`);
        await queryRunner.query(`DROP INDEX "public"."sources_tenant_id_id_idx"`);
        await queryRunner.query(`DROP TABLE "sources"`);
    }

}

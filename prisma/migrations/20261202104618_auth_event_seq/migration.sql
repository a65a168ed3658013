-- DropIndex
DROP INDEX "AuthEvent_createdAt_id_idx";

-- AlterTable
ALTER TABLE "AuthEvent" ADD COLUMN     "seq" BIGSERIAL NOT NULL;

-- CreateIndex
CREATE INDEX "AuthEvent_createdAt_seq_idx" ON "AuthEvent"("createdAt", "seq");

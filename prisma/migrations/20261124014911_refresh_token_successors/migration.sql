-- AlterTable
ALTER TABLE "SessionToken" ADD COLUMN     "successorCiphertext" TEXT,
ADD COLUMN     "successorId" UUID;

-- CreateIndex
CREATE INDEX "SessionToken_usedAt_idx" ON "SessionToken"("usedAt");

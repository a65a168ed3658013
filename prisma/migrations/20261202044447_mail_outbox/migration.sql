-- CreateEnum
CREATE TYPE "MailOutboxStatus" AS ENUM ('PENDING', 'SENT', 'FAILED');

-- CreateTable
CREATE TABLE "MailOutbox" (
    "id" UUID NOT NULL,
    "scope" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "status" "MailOutboxStatus" NOT NULL DEFAULT 'PENDING',
    "sealedMessage" TEXT NOT NULL,
    "messageId" TEXT NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "nextAttemptAt" TIMESTAMP(3) NOT NULL,
    "leaseUntil" TIMESTAMP(3),
    "lastError" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL,
    "sentAt" TIMESTAMP(3),
    "failedAt" TIMESTAMP(3),

    CONSTRAINT "MailOutbox_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "MailOutbox_messageId_key" ON "MailOutbox"("messageId");

-- CreateIndex
CREATE INDEX "MailOutbox_scope_status_nextAttemptAt_idx" ON "MailOutbox"("scope", "status", "nextAttemptAt");

-- CreateIndex
CREATE INDEX "MailOutbox_status_sentAt_idx" ON "MailOutbox"("status", "sentAt");

-- CreateIndex
CREATE INDEX "MailOutbox_status_failedAt_idx" ON "MailOutbox"("status", "failedAt");

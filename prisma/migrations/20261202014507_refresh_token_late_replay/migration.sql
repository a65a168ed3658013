-- AlterTable
ALTER TABLE "SessionToken" ADD COLUMN     "replayedAt" TIMESTAMP(3);

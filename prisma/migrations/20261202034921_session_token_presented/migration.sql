-- AlterTable
ALTER TABLE "SessionToken" ADD COLUMN     "presentedAt" TIMESTAMP(3);

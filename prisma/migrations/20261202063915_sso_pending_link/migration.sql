-- AlterTable
ALTER TABLE "LoginCode" ADD COLUMN     "email" TEXT,
ADD COLUMN     "subject" TEXT;

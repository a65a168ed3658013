-- DropForeignKey
ALTER TABLE "Session" DROP CONSTRAINT "Session_userId_fkey";

-- AlterTable
ALTER TABLE "Session" ALTER COLUMN "userId" DROP NOT NULL;

-- AlterTable
ALTER TABLE "User" ADD COLUMN     "accessChangedAt" TIMESTAMP(3);

-- CreateIndex
CREATE INDEX "User_accessChangedAt_idx" ON "User"("accessChangedAt");

-- AddForeignKey
ALTER TABLE "Session" ADD CONSTRAINT "Session_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- Data: the default "User" policy of existing installations gains the permissions that access
-- checks now require (read and update of the user's own record, their own sessions), the same
-- ones a new installation creates (src/modules/access/access.bootstrap.ts). A policy that already
-- has a permission for the pair is left as its administrator made it.
INSERT INTO "Permission" ("id", "policyId", "resource", "action", "fields", "filter")
SELECT gen_random_uuid(), p."id", v."resource", v."action", v."fields", v."filter"::jsonb
FROM "Policy" p
CROSS JOIN (VALUES
  ('users', 'read', ARRAY['id', 'email', 'firstName', 'lastName', 'status', 'role', 'policies', 'createdAt', 'updatedAt', 'twoFactorEnabled'], '{"id": {"_eq": "$CURRENT_USER"}}'),
  ('users', 'update', ARRAY['firstName', 'lastName'], '{"id": {"_eq": "$CURRENT_USER"}}'),
  ('sessions', 'read', ARRAY['*'], '{"userId": {"_eq": "$CURRENT_USER"}}'),
  ('sessions', 'delete', ARRAY['*'], '{"userId": {"_eq": "$CURRENT_USER"}}')
) AS v("resource", "action", "fields", "filter")
WHERE p."name" = 'User' AND p."adminAccess" = false
  AND NOT EXISTS (SELECT 1 FROM "Permission" x WHERE x."policyId" = p."id" AND x."resource" = v."resource" AND x."action" = v."action");

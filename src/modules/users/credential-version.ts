/**
 * Data for a User update that changes what proves the account: a new password (changed, reset or
 * set by an admin), a new email, 2FA turned on or off. Sessions are written only under the version
 * their login read before checking the password, and reset links carry the version they were
 * mailed under, so whatever was checked or mailed before the change stops counting.
 */
export const NEW_CREDENTIAL_VERSION = { credentialVersion: { increment: 1 } } as const;

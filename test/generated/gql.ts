/* eslint-disable */
import * as types from './graphql.js';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "mutation Register($input: CreateUserInput!) {\n  createUser(input: $input) {\n    id\n    email\n    firstName\n    status\n  }\n}\n\nmutation Login($email: String!, $password: String!, $mode: AuthMode) {\n  login(email: $email, password: $password, mode: $mode) {\n    accessToken\n    refreshToken\n    expiresIn\n    user {\n      id\n      email\n    }\n  }\n}\n\nmutation Refresh($refreshToken: String, $mode: AuthMode) {\n  refresh(refreshToken: $refreshToken, mode: $mode) {\n    accessToken\n    refreshToken\n    expiresIn\n    user {\n      id\n    }\n  }\n}\n\nmutation Logout($refreshToken: String, $mode: AuthMode) {\n  logout(refreshToken: $refreshToken, mode: $mode)\n}\n\nquery Viewer {\n  viewer {\n    id\n    email\n    status\n  }\n}\n\nmutation RequestPasswordReset($email: String!, $resetUrl: String) {\n  requestPasswordReset(email: $email, resetUrl: $resetUrl)\n}\n\nmutation ResetPassword($token: String!, $password: String!) {\n  resetPassword(token: $token, password: $password)\n}": typeof types.RegisterDocument,
    "query ViewerSessions {\n  viewer {\n    id\n    sessions {\n      id\n      createdAt\n      lastUsedAt\n      expiresAt\n      userAgent\n      ip\n      current\n    }\n  }\n}\n\nmutation RevokeSession($id: ID!) {\n  revokeSession(id: $id)\n}\n\nmutation LogoutEverywhere($refreshToken: String, $mode: AuthMode) {\n  logout(refreshToken: $refreshToken, mode: $mode, allSessions: true)\n}\n\nmutation ChangePassword($currentPassword: String!, $newPassword: String!) {\n  changePassword(currentPassword: $currentPassword, newPassword: $newPassword)\n}": typeof types.ViewerSessionsDocument,
    "mutation LoginWithOtp($email: String!, $password: String!, $otp: String, $mode: AuthMode) {\n  login(email: $email, password: $password, otp: $otp, mode: $mode) {\n    accessToken\n    refreshToken\n  }\n}\n\nmutation GenerateTwoFactorSecret($password: String!) {\n  generateTwoFactorSecret(password: $password) {\n    secret\n    otpauthUrl\n    qrCode\n  }\n}\n\nmutation EnableTwoFactor($otp: String!) {\n  enableTwoFactor(otp: $otp)\n}\n\nmutation DisableTwoFactor($otp: String!) {\n  disableTwoFactor(otp: $otp)\n}\n\nmutation RegenerateRecoveryCodes($otp: String!) {\n  regenerateRecoveryCodes(otp: $otp)\n}\n\nquery ViewerTwoFactor {\n  viewer {\n    id\n    twoFactorEnabled\n  }\n}": typeof types.LoginWithOtpDocument,
};
const documents: Documents = {
    "mutation Register($input: CreateUserInput!) {\n  createUser(input: $input) {\n    id\n    email\n    firstName\n    status\n  }\n}\n\nmutation Login($email: String!, $password: String!, $mode: AuthMode) {\n  login(email: $email, password: $password, mode: $mode) {\n    accessToken\n    refreshToken\n    expiresIn\n    user {\n      id\n      email\n    }\n  }\n}\n\nmutation Refresh($refreshToken: String, $mode: AuthMode) {\n  refresh(refreshToken: $refreshToken, mode: $mode) {\n    accessToken\n    refreshToken\n    expiresIn\n    user {\n      id\n    }\n  }\n}\n\nmutation Logout($refreshToken: String, $mode: AuthMode) {\n  logout(refreshToken: $refreshToken, mode: $mode)\n}\n\nquery Viewer {\n  viewer {\n    id\n    email\n    status\n  }\n}\n\nmutation RequestPasswordReset($email: String!, $resetUrl: String) {\n  requestPasswordReset(email: $email, resetUrl: $resetUrl)\n}\n\nmutation ResetPassword($token: String!, $password: String!) {\n  resetPassword(token: $token, password: $password)\n}": types.RegisterDocument,
    "query ViewerSessions {\n  viewer {\n    id\n    sessions {\n      id\n      createdAt\n      lastUsedAt\n      expiresAt\n      userAgent\n      ip\n      current\n    }\n  }\n}\n\nmutation RevokeSession($id: ID!) {\n  revokeSession(id: $id)\n}\n\nmutation LogoutEverywhere($refreshToken: String, $mode: AuthMode) {\n  logout(refreshToken: $refreshToken, mode: $mode, allSessions: true)\n}\n\nmutation ChangePassword($currentPassword: String!, $newPassword: String!) {\n  changePassword(currentPassword: $currentPassword, newPassword: $newPassword)\n}": types.ViewerSessionsDocument,
    "mutation LoginWithOtp($email: String!, $password: String!, $otp: String, $mode: AuthMode) {\n  login(email: $email, password: $password, otp: $otp, mode: $mode) {\n    accessToken\n    refreshToken\n  }\n}\n\nmutation GenerateTwoFactorSecret($password: String!) {\n  generateTwoFactorSecret(password: $password) {\n    secret\n    otpauthUrl\n    qrCode\n  }\n}\n\nmutation EnableTwoFactor($otp: String!) {\n  enableTwoFactor(otp: $otp)\n}\n\nmutation DisableTwoFactor($otp: String!) {\n  disableTwoFactor(otp: $otp)\n}\n\nmutation RegenerateRecoveryCodes($otp: String!) {\n  regenerateRecoveryCodes(otp: $otp)\n}\n\nquery ViewerTwoFactor {\n  viewer {\n    id\n    twoFactorEnabled\n  }\n}": types.LoginWithOtpDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation Register($input: CreateUserInput!) {\n  createUser(input: $input) {\n    id\n    email\n    firstName\n    status\n  }\n}\n\nmutation Login($email: String!, $password: String!, $mode: AuthMode) {\n  login(email: $email, password: $password, mode: $mode) {\n    accessToken\n    refreshToken\n    expiresIn\n    user {\n      id\n      email\n    }\n  }\n}\n\nmutation Refresh($refreshToken: String, $mode: AuthMode) {\n  refresh(refreshToken: $refreshToken, mode: $mode) {\n    accessToken\n    refreshToken\n    expiresIn\n    user {\n      id\n    }\n  }\n}\n\nmutation Logout($refreshToken: String, $mode: AuthMode) {\n  logout(refreshToken: $refreshToken, mode: $mode)\n}\n\nquery Viewer {\n  viewer {\n    id\n    email\n    status\n  }\n}\n\nmutation RequestPasswordReset($email: String!, $resetUrl: String) {\n  requestPasswordReset(email: $email, resetUrl: $resetUrl)\n}\n\nmutation ResetPassword($token: String!, $password: String!) {\n  resetPassword(token: $token, password: $password)\n}"): (typeof documents)["mutation Register($input: CreateUserInput!) {\n  createUser(input: $input) {\n    id\n    email\n    firstName\n    status\n  }\n}\n\nmutation Login($email: String!, $password: String!, $mode: AuthMode) {\n  login(email: $email, password: $password, mode: $mode) {\n    accessToken\n    refreshToken\n    expiresIn\n    user {\n      id\n      email\n    }\n  }\n}\n\nmutation Refresh($refreshToken: String, $mode: AuthMode) {\n  refresh(refreshToken: $refreshToken, mode: $mode) {\n    accessToken\n    refreshToken\n    expiresIn\n    user {\n      id\n    }\n  }\n}\n\nmutation Logout($refreshToken: String, $mode: AuthMode) {\n  logout(refreshToken: $refreshToken, mode: $mode)\n}\n\nquery Viewer {\n  viewer {\n    id\n    email\n    status\n  }\n}\n\nmutation RequestPasswordReset($email: String!, $resetUrl: String) {\n  requestPasswordReset(email: $email, resetUrl: $resetUrl)\n}\n\nmutation ResetPassword($token: String!, $password: String!) {\n  resetPassword(token: $token, password: $password)\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query ViewerSessions {\n  viewer {\n    id\n    sessions {\n      id\n      createdAt\n      lastUsedAt\n      expiresAt\n      userAgent\n      ip\n      current\n    }\n  }\n}\n\nmutation RevokeSession($id: ID!) {\n  revokeSession(id: $id)\n}\n\nmutation LogoutEverywhere($refreshToken: String, $mode: AuthMode) {\n  logout(refreshToken: $refreshToken, mode: $mode, allSessions: true)\n}\n\nmutation ChangePassword($currentPassword: String!, $newPassword: String!) {\n  changePassword(currentPassword: $currentPassword, newPassword: $newPassword)\n}"): (typeof documents)["query ViewerSessions {\n  viewer {\n    id\n    sessions {\n      id\n      createdAt\n      lastUsedAt\n      expiresAt\n      userAgent\n      ip\n      current\n    }\n  }\n}\n\nmutation RevokeSession($id: ID!) {\n  revokeSession(id: $id)\n}\n\nmutation LogoutEverywhere($refreshToken: String, $mode: AuthMode) {\n  logout(refreshToken: $refreshToken, mode: $mode, allSessions: true)\n}\n\nmutation ChangePassword($currentPassword: String!, $newPassword: String!) {\n  changePassword(currentPassword: $currentPassword, newPassword: $newPassword)\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation LoginWithOtp($email: String!, $password: String!, $otp: String, $mode: AuthMode) {\n  login(email: $email, password: $password, otp: $otp, mode: $mode) {\n    accessToken\n    refreshToken\n  }\n}\n\nmutation GenerateTwoFactorSecret($password: String!) {\n  generateTwoFactorSecret(password: $password) {\n    secret\n    otpauthUrl\n    qrCode\n  }\n}\n\nmutation EnableTwoFactor($otp: String!) {\n  enableTwoFactor(otp: $otp)\n}\n\nmutation DisableTwoFactor($otp: String!) {\n  disableTwoFactor(otp: $otp)\n}\n\nmutation RegenerateRecoveryCodes($otp: String!) {\n  regenerateRecoveryCodes(otp: $otp)\n}\n\nquery ViewerTwoFactor {\n  viewer {\n    id\n    twoFactorEnabled\n  }\n}"): (typeof documents)["mutation LoginWithOtp($email: String!, $password: String!, $otp: String, $mode: AuthMode) {\n  login(email: $email, password: $password, otp: $otp, mode: $mode) {\n    accessToken\n    refreshToken\n  }\n}\n\nmutation GenerateTwoFactorSecret($password: String!) {\n  generateTwoFactorSecret(password: $password) {\n    secret\n    otpauthUrl\n    qrCode\n  }\n}\n\nmutation EnableTwoFactor($otp: String!) {\n  enableTwoFactor(otp: $otp)\n}\n\nmutation DisableTwoFactor($otp: String!) {\n  disableTwoFactor(otp: $otp)\n}\n\nmutation RegenerateRecoveryCodes($otp: String!) {\n  regenerateRecoveryCodes(otp: $otp)\n}\n\nquery ViewerTwoFactor {\n  viewer {\n    id\n    twoFactorEnabled\n  }\n}"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;
/**
 * The Cognito user pool behind sign-in, sign-up and user administration.
 * The endpoint comes from the SDK's standard configuration
 * (AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER points it at cognito-local).
 * Cognito's failures become readable HttpErrors here.
 */
import {
  AdminAddUserToGroupCommand,
  AdminDisableUserCommand,
  AdminEnableUserCommand,
  AdminGetUserCommand,
  AdminListGroupsForUserCommand,
  AdminRemoveUserFromGroupCommand,
  AdminUpdateUserAttributesCommand,
  AdminUserGlobalSignOutCommand,
  CognitoIdentityProviderClient,
  ConfirmForgotPasswordCommand,
  ConfirmSignUpCommand,
  DescribeUserPoolCommand,
  ForgotPasswordCommand,
  InitiateAuthCommand,
  ListUsersCommand,
  ListUsersInGroupCommand,
  ResendConfirmationCodeCommand,
  RevokeTokenCommand,
  SignUpCommand,
  type AttributeType,
} from '@aws-sdk/client-cognito-identity-provider';
import { createHmac } from 'node:crypto';
import { decodeJwt } from 'jose';
import type { Role } from '@medlake/shared/resources';
import { envNames, roles } from '@medlake/shared/resources';
import { HttpError, badRequest, conflict, forbidden, notFound, unauthorized } from '../http/errors';

export interface PoolConfig {
  userPoolId: string;
  webClientId: string;
}

export interface SignedInTokens {
  idToken: string;
  accessToken: string;
  refreshToken: string | undefined;
  expiresInSeconds: number | undefined;
}

export type UserState = 'unconfirmed' | 'pending' | 'active' | 'disabled';

export interface PoolUser {
  username: string;
  sub: string | undefined;
  email: string | undefined;
  emailVerified: boolean;
  enabled: boolean;
  /** Cognito's status: UNCONFIRMED, CONFIRMED, FORCE_CHANGE_PASSWORD, ... */
  status: string;
  groups: Role[];
  state: UserState;
  createdAt: string | undefined;
}

export function poolConfigFromEnv(env: NodeJS.ProcessEnv = process.env): PoolConfig {
  const userPoolId = env[envNames.userPoolId];
  const webClientId = env[envNames.webClientId];
  if (!userPoolId || !webClientId) throw new Error(`${envNames.userPoolId} and ${envNames.webClientId} must be set`);
  return { userPoolId, webClientId };
}

let sharedClient: CognitoIdentityProviderClient | undefined;

export function cognitoClient(): CognitoIdentityProviderClient {
  sharedClient ??= new CognitoIdentityProviderClient({ region: process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1' });
  return sharedClient;
}

export function userState(user: { enabled: boolean; status: string; groups: readonly Role[] }): UserState {
  if (!user.enabled) return 'disabled';
  if (user.status === 'UNCONFIRMED') return 'unconfirmed';
  return user.groups.length > 0 ? 'active' : 'pending';
}

function attribute(attributes: AttributeType[] | undefined, name: string): string | undefined {
  return attributes?.find((a) => a.Name === name)?.Value;
}

const toRoles = (names: (string | undefined)[]): Role[] => roles.filter((role) => names.includes(role));

export class UserPool {
  constructor(
    private readonly config: PoolConfig,
    private readonly client: CognitoIdentityProviderClient = cognitoClient(),
  ) {}

  /**
   * Password sign-in, by default for the browser app; hospital gateways sign
   * in with their own app client (and its secret, when it has one).
   */
  async signIn(email: string, password: string, client: { id: string; secret?: string | undefined } = { id: this.config.webClientId }): Promise<SignedInTokens> {
    const parameters: Record<string, string> = { USERNAME: email, PASSWORD: password };
    if (client.secret) parameters.SECRET_HASH = createHmac('sha256', client.secret).update(email + client.id).digest('base64');
    const out = await this.call('sign-in', () => this.client.send(new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: client.id, AuthParameters: parameters })));
    const result = out.AuthenticationResult;
    if (out.ChallengeName === 'NEW_PASSWORD_REQUIRED') throw forbidden('password_change_required', 'You must choose a new password first: use "forgot password" to set one.');
    if (!result?.IdToken || !result.AccessToken) throw forbidden('sign_in_challenge', `Sign-in needs a step this app does not support (${out.ChallengeName ?? 'unknown'}).`);
    return { idToken: result.IdToken, accessToken: result.AccessToken, refreshToken: result.RefreshToken, expiresInSeconds: result.ExpiresIn };
  }

  async refresh(refreshToken: string): Promise<SignedInTokens> {
    const out = await this.call('refresh', () => this.client.send(new InitiateAuthCommand({ AuthFlow: 'REFRESH_TOKEN_AUTH', ClientId: this.config.webClientId, AuthParameters: { REFRESH_TOKEN: refreshToken } })));
    const result = out.AuthenticationResult;
    if (!result?.IdToken || !result.AccessToken) throw unauthorized('session_expired', 'Your session has expired. Sign in again.');
    return { idToken: result.IdToken, accessToken: result.AccessToken, refreshToken: result.RefreshToken ?? refreshToken, expiresInSeconds: result.ExpiresIn };
  }

  /** Best effort: a refresh token that cannot be revoked simply expires. */
  async revoke(refreshToken: string): Promise<void> {
    await this.client.send(new RevokeTokenCommand({ ClientId: this.config.webClientId, Token: refreshToken })).catch(() => undefined);
  }

  async signUp(email: string, password: string): Promise<{ confirmed: boolean; codeSentTo: string | undefined }> {
    const out = await this.call('sign-up', () => this.client.send(new SignUpCommand({ ClientId: this.config.webClientId, Username: email, Password: password, UserAttributes: [{ Name: 'email', Value: email }] })));
    return { confirmed: out.UserConfirmed ?? false, codeSentTo: out.CodeDeliveryDetails?.Destination };
  }

  /**
   * Confirms the emailed code. cognito-local never sets email_verified, so it
   * is set here (Cognito itself already did; setting it again changes nothing).
   */
  async confirmSignUp(email: string, code: string): Promise<void> {
    await this.call('confirm', () => this.client.send(new ConfirmSignUpCommand({ ClientId: this.config.webClientId, Username: email, ConfirmationCode: code })));
    await this.client.send(new AdminUpdateUserAttributesCommand({ UserPoolId: this.config.userPoolId, Username: email, UserAttributes: [{ Name: 'email', Value: email }, { Name: 'email_verified', Value: 'true' }] })).catch(() => undefined);
  }

  async resendCode(email: string): Promise<{ codeSentTo: string | undefined }> {
    try {
      const out = await this.client.send(new ResendConfirmationCodeCommand({ ClientId: this.config.webClientId, Username: email }));
      return { codeSentTo: out.CodeDeliveryDetails?.Destination };
    } catch (error) {
      if (errorName(error).includes('Unsupported')) {
        throw new HttpError(501, 'resend_unavailable', 'This sign-up service cannot send a new code. The code from your first email stays valid; locally it is in the Cognito emulator output.');
      }
      throw translate('resend', error);
    }
  }

  async forgotPassword(email: string): Promise<{ codeSentTo: string | undefined }> {
    try {
      const out = await this.client.send(new ForgotPasswordCommand({ ClientId: this.config.webClientId, Username: email }));
      return { codeSentTo: out.CodeDeliveryDetails?.Destination };
    } catch (error) {
      // Do not reveal whether an account exists.
      if (errorName(error) === 'UserNotFoundException') return { codeSentTo: undefined };
      throw translate('forgot', error);
    }
  }

  async resetPassword(email: string, code: string, password: string): Promise<void> {
    await this.call('reset', () => this.client.send(new ConfirmForgotPasswordCommand({ ClientId: this.config.webClientId, Username: email, ConfirmationCode: code, Password: password })));
  }

  async getUser(username: string): Promise<PoolUser | undefined> {
    let out;
    try {
      out = await this.client.send(new AdminGetUserCommand({ UserPoolId: this.config.userPoolId, Username: username }));
    } catch (error) {
      if (errorName(error) === 'UserNotFoundException') return undefined;
      throw error;
    }
    const groups = await this.groupsOf(out.Username ?? username);
    const enabled = out.Enabled ?? true;
    const status = out.UserStatus ?? 'UNKNOWN';
    return {
      username: out.Username ?? username,
      sub: attribute(out.UserAttributes, 'sub'),
      email: attribute(out.UserAttributes, 'email'),
      emailVerified: attribute(out.UserAttributes, 'email_verified') === 'true',
      enabled,
      status,
      groups,
      state: userState({ enabled, status, groups }),
      createdAt: out.UserCreateDate?.toISOString(),
    };
  }

  async requireUser(username: string): Promise<PoolUser> {
    const user = await this.getUser(username);
    if (!user) throw notFound('user_not_found', `There is no user ${username}.`);
    return user;
  }

  async groupsOf(username: string): Promise<Role[]> {
    const out = await this.client.send(new AdminListGroupsForUserCommand({ UserPoolId: this.config.userPoolId, Username: username }));
    return toRoles((out.Groups ?? []).map((g) => g.GroupName));
  }

  /** Every user with groups: one ListUsers pass plus one ListUsersInGroup per role. */
  async listUsers(): Promise<PoolUser[]> {
    const groupsByUser = new Map<string, Role[]>();
    for (const role of roles) {
      let token: string | undefined;
      do {
        const page = await this.client.send(new ListUsersInGroupCommand({ UserPoolId: this.config.userPoolId, GroupName: role, NextToken: token }));
        for (const u of page.Users ?? []) if (u.Username) groupsByUser.set(u.Username, [...(groupsByUser.get(u.Username) ?? []), role]);
        token = page.NextToken;
      } while (token);
    }
    const users: PoolUser[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListUsersCommand({ UserPoolId: this.config.userPoolId, PaginationToken: token }));
      for (const u of page.Users ?? []) {
        const username = u.Username ?? '';
        const groups = toRoles(groupsByUser.get(username) ?? []);
        const enabled = u.Enabled ?? true;
        const status = u.UserStatus ?? 'UNKNOWN';
        users.push({
          username,
          sub: attribute(u.Attributes, 'sub'),
          email: attribute(u.Attributes, 'email'),
          emailVerified: attribute(u.Attributes, 'email_verified') === 'true',
          enabled,
          status,
          groups,
          state: userState({ enabled, status, groups }),
          createdAt: u.UserCreateDate?.toISOString(),
        });
      }
      token = page.PaginationToken;
    } while (token);
    return users.sort((a, b) => (a.createdAt ?? '').localeCompare(b.createdAt ?? ''));
  }

  /** Makes the user's groups exactly `groups`. Returns the groups before. */
  async setGroups(username: string, groups: readonly Role[]): Promise<Role[]> {
    const before = await this.groupsOf(username);
    for (const role of groups) if (!before.includes(role)) await this.client.send(new AdminAddUserToGroupCommand({ UserPoolId: this.config.userPoolId, Username: username, GroupName: role }));
    for (const role of before) if (!groups.includes(role)) await this.client.send(new AdminRemoveUserFromGroupCommand({ UserPoolId: this.config.userPoolId, Username: username, GroupName: role }));
    return before;
  }

  /** Disables the account and, where the service supports it, ends its sessions. */
  async disable(username: string): Promise<void> {
    await this.client.send(new AdminDisableUserCommand({ UserPoolId: this.config.userPoolId, Username: username }));
    await this.client.send(new AdminUserGlobalSignOutCommand({ UserPoolId: this.config.userPoolId, Username: username })).catch(() => undefined);
  }

  async enable(username: string): Promise<void> {
    await this.client.send(new AdminEnableUserCommand({ UserPoolId: this.config.userPoolId, Username: username }));
  }

  async describe(): Promise<void> {
    await this.client.send(new DescribeUserPoolCommand({ UserPoolId: this.config.userPoolId }));
  }

  private async call<Output>(operation: Operation, send: () => Promise<Output>): Promise<Output> {
    try {
      return await send();
    } catch (error) {
      throw translate(operation, error);
    }
  }
}

/** The Cognito username inside tokens Cognito just handed us (no need to verify them again). */
export function usernameOf(tokens: SignedInTokens): string {
  const claims = decodeJwt(tokens.idToken);
  const username = claims['cognito:username'];
  return typeof username === 'string' ? username : String(claims.sub);
}

type Operation = 'sign-in' | 'refresh' | 'sign-up' | 'confirm' | 'resend' | 'forgot' | 'reset';

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : '';
}

function translate(operation: Operation, error: unknown): Error {
  const name = errorName(error);
  const message = error instanceof Error ? error.message : '';
  switch (name) {
    case 'NotAuthorizedException':
    case 'UserNotFoundException':
      if (operation === 'refresh') return unauthorized('session_expired', 'Your session has expired. Sign in again.');
      if (operation === 'sign-in') return unauthorized('invalid_credentials', 'The email or password is wrong.');
      if (/disabled/i.test(message)) return forbidden('account_disabled', 'This account is disabled. Ask an administrator.');
      return badRequest('invalid_request', 'No pending request matches this email.');
    case 'InvalidPasswordException':
      // cognito-local answers a wrong password with this; Cognito uses it for weak new passwords.
      if (operation === 'sign-in') return unauthorized('invalid_credentials', 'The email or password is wrong.');
      return badRequest('weak_password', 'The password is too weak: use at least 8 characters with upper and lower case letters, digits and a symbol.');
    case 'UserNotConfirmedException':
      return forbidden('email_not_verified', 'Confirm your email address first with the code we sent you.');
    case 'PasswordResetRequiredException':
      return forbidden('password_reset_required', 'You must reset your password: use "forgot password".');
    case 'UsernameExistsException':
      return conflict('account_exists', 'An account with this email already exists. Sign in, or reset the password.');
    case 'CodeMismatchException':
      return badRequest('invalid_code', 'The code is wrong. Check the email and try again.');
    case 'ExpiredCodeException':
      return badRequest('code_expired', 'The code has expired. Ask for a new one.');
    case 'InvalidParameterException':
      return badRequest('invalid_request', 'The sign-up service refused these values. Check the email address and password.');
    case 'TooManyRequestsException':
    case 'LimitExceededException':
    case 'TooManyFailedAttemptsException':
      return new HttpError(429, 'too_many_attempts', 'Too many attempts. Wait a few minutes and try again.');
    default:
      return error instanceof Error ? error : new Error(String(error));
  }
}

let sharedPool: { key: string; pool: UserPool } | undefined;

/** The pool named by the environment, one per container. */
export function userPoolFromEnv(env: NodeJS.ProcessEnv = process.env): UserPool {
  const config = poolConfigFromEnv(env);
  const key = `${config.userPoolId}/${config.webClientId}`;
  if (sharedPool?.key !== key) sharedPool = { key, pool: new UserPool(config) };
  return sharedPool.pool;
}

/**
 * Identity: the Cognito user pool (self sign-up with email verification, an
 * admin then approves and assigns groups), the groups of shared/src/resources.ts,
 * the web client (no secret, USER_PASSWORD_AUTH + refresh, revocable) and the
 * gateway machine client, and the SES identity emails are sent from.
 */
import { Aws, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as ses from 'aws-cdk-lib/aws-ses';
import { Construct } from 'constructs';
import { nameFor, userPool as userPoolDefinition } from '@medlake/shared/resources';
import type { StageConfig } from './config';

export class Auth extends Construct {
  readonly userPool: cognito.UserPool;
  readonly webClient: cognito.UserPoolClient;
  readonly gatewayClient: cognito.UserPoolClient;
  readonly mailIdentity: ses.EmailIdentity;
  /** Issuer of the pool's tokens (JWT_ISSUER); its JWKS is at `${issuer}/.well-known/jwks.json`. */
  readonly issuer: string;

  constructor(scope: Construct, id: string, props: { config: StageConfig }) {
    super(scope, id);
    const { config } = props;

    // SES sends from this address once it is verified (a link is mailed to it
    // on deploy); leaving the SES sandbox is a request to AWS (docs/deploy-aws.md).
    this.mailIdentity = new ses.EmailIdentity(this, 'MailFrom', { identity: ses.Identity.email(config.mailFrom) });

    this.userPool = new cognito.UserPool(this, 'Users', {
      userPoolName: nameFor(config.stage, userPoolDefinition.name),
      selfSignUpEnabled: true,
      signInAliases: { email: true },
      autoVerify: { email: true },
      keepOriginal: { email: true },
      signInCaseSensitive: false,
      standardAttributes: { email: { required: true, mutable: true } },
      passwordPolicy: { minLength: 12, requireLowercase: true, requireUppercase: true, requireDigits: true, requireSymbols: true, tempPasswordValidity: Duration.days(3) },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      userVerification: {
        emailSubject: 'Your medlake verification code',
        emailBody: 'Your medlake verification code is {####}. An administrator approves new accounts after you confirm your address.',
        emailStyle: cognito.VerificationEmailStyle.CODE,
      },
      email: cognito.UserPoolEmail.withSES({ fromEmail: config.mailFrom, fromName: 'medlake', sesRegion: Aws.REGION }),
      // The session API signs in with USER_PASSWORD_AUTH and does not answer MFA challenges yet.
      mfa: cognito.Mfa.OFF,
      featurePlan: config.threatProtection ? cognito.FeaturePlan.PLUS : cognito.FeaturePlan.ESSENTIALS,
      standardThreatProtectionMode: config.threatProtection ? cognito.StandardThreatProtectionMode.FULL_FUNCTION : undefined,
      deletionProtection: config.deletionProtection,
      removalPolicy: config.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.userPool.node.addDependency(this.mailIdentity);

    for (const group of userPoolDefinition.groups) {
      new cognito.CfnUserPoolGroup(this, `Group-${group.name}`, { userPoolId: this.userPool.userPoolId, groupName: group.name, description: group.description });
    }

    const client = (id: string, name: string) =>
      this.userPool.addClient(id, {
        userPoolClientName: name,
        generateSecret: false,
        authFlows: { userPassword: true },
        preventUserExistenceErrors: true,
        enableTokenRevocation: true,
        idTokenValidity: Duration.hours(1),
        accessTokenValidity: Duration.hours(1),
        refreshTokenValidity: Duration.days(30),
        readAttributes: new cognito.ClientAttributes().withStandardAttributes({ email: true, emailVerified: true }),
        writeAttributes: new cognito.ClientAttributes().withStandardAttributes({ email: true }),
      });
    this.webClient = client('WebClient', userPoolDefinition.webClientName);
    // Gateways sign in as pool users through their own client (per-gateway
    // audit and disabling); the API limits their tokens to the uploader role.
    this.gatewayClient = client('GatewayClient', userPoolDefinition.gatewayClientName);

    this.issuer = `https://cognito-idp.${Aws.REGION}.${Aws.URL_SUFFIX}/${this.userPool.userPoolId}`;
  }
}

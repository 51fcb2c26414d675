/** The local API Gateway HTTP API (payload 2.0), its JWT and IAM authorizers: see README.md. */
export { makeGateway, type GatewayConfig } from './gateway.ts';
export {
  makeIamAuthorizer,
  type IamAuthorizer,
  type IamAuthorizerConfig,
  type IamPrincipal,
} from './iam-authorizer.ts';
export {
  makeJwtAuthorizer,
  type JwtAuthorizer,
  type JwtAuthorizerConfig,
} from './jwt-authorizer.ts';

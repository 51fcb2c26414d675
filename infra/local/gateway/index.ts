/** The local API Gateway HTTP API (payload 2.0) and its JWT authorizer: see README.md. */
export { makeGateway, type GatewayConfig } from './gateway.ts';
export {
  makeJwtAuthorizer,
  type JwtAuthorizer,
  type JwtAuthorizerConfig,
} from './jwt-authorizer.ts';

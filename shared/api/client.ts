/**
 * The typed client of the API: openapi-fetch over the types generated from the OpenAPI
 * description (openapi-types.ts), so a path, parameter, body or answer field that the
 * description does not have is a type error in the simulator and the smoke test that use it.
 */
import createClient, { type Client, type ClientOptions } from 'openapi-fetch';
import type { components, paths } from './openapi-types.ts';

export type ApiClient = Client<paths>;
export type ApiSchemas = components['schemas'];
export type Run = ApiSchemas['Run'];

export const createApiClient = (baseUrl: string, options: Omit<ClientOptions, 'baseUrl'> = {}) =>
  createClient<paths>({ baseUrl: baseUrl.replace(/\/+$/, ''), ...options });

/** The local Lambda service (execution environments in worker threads): see README.md. */
export {
  FunctionError,
  FunctionTimeoutError,
  InvocationRejectedError,
  LambdaInvoker,
  type FunctionRuntime,
  type InvocationFault,
  type InvokerEvents,
} from './invoker.ts';

/** The local stack's SNS: Publish to its topics, kept for reading back (README.md). */
export { publishProblem, startLocalSns, type LocalSns, type PublishedMessage } from './server.ts';

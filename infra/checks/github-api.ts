/**
 * The few GitHub REST calls the delivery checks make, with the workflow's own token
 * (`GITHUB_TOKEN`) against `GITHUB_API_URL`, which GitHub sets on its runners (tests point it at
 * a stub on 127.0.0.1). Plain `fetch`, no dependency, so a job can run it with `node` alone.
 */
export interface GitHubApi {
  /** The parsed JSON answer of GET `path` (a path under the API root, with its query). */
  json<T>(path: string): Promise<T>;
  /** The raw text answer of GET `path` (a file's content). */
  text(path: string): Promise<string>;
}

export class GitHubApiError extends Error {}

export const gitHubApi = (env: NodeJS.ProcessEnv = process.env): GitHubApi => {
  const root = (env.GITHUB_API_URL ?? 'https://api.github.com').replace(/\/+$/, '');
  const token = env.GITHUB_TOKEN;
  if (!token) throw new GitHubApiError('GITHUB_TOKEN is not set');
  const get = async (path: string, accept: string): Promise<Response> => {
    const response = await fetch(`${root}${path}`, {
      headers: {
        accept,
        authorization: `Bearer ${token}`,
        'x-github-api-version': '2022-11-28',
      },
    });
    if (!response.ok) {
      throw new GitHubApiError(`GET ${path}: ${response.status} ${await response.text()}`);
    }
    return response;
  };
  return {
    json: async <T>(path: string) =>
      (await (await get(path, 'application/vnd.github+json')).json()) as T,
    text: async (path: string) => (await get(path, 'application/vnd.github.raw+json')).text(),
  };
};

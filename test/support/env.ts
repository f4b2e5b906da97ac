/**
 * A service address the integration tests need (MLCACHE_REDIS_URL …). Integration tests run
 * against real services: a missing variable fails the file loudly, it never skips it.
 */
export function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set. Run the tests with \`npm test\`, or \`export $(scripts/services up)\` first.`);
  }
  return value;
}

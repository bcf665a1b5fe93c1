/**
 * The token ids a row of the source's blacklist names. Apps store either the token's id (the
 * `token_id` of its login) or the whole JWT; a JWT names its login by a claim, `jti` or the
 * app's own `token_id` / `tokenId`. Its payload is read without checking the signature: the
 * blacklist is the old app's own table, and a wrong match only leaves a login out.
 */
const ID_CLAIMS = ['jti', 'token_id', 'tokenId'];
const JWT = /^[A-Za-z0-9_-]+\.([A-Za-z0-9_-]+)\.[A-Za-z0-9_-]*$/;

export function blacklistedTokenIds(token: string): string[] {
  const trimmed = token.trim();
  const payload = JWT.exec(trimmed)?.[1];
  if (payload === undefined) return trimmed === '' ? [] : [trimmed];
  try {
    const claims: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    if (typeof claims !== 'object' || claims === null) return [];
    return ID_CLAIMS.map((name) => (claims as Record<string, unknown>)[name])
      .filter((value) => typeof value === 'string' || typeof value === 'number')
      .map(String);
  } catch {
    return [];
  }
}

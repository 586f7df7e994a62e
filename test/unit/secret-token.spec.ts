import { SecretToken } from '../../src/auth/secret-token.js';

describe('SecretToken', () => {
  const token = new SecretToken('publish-token-0123456789');

  it('matches the secret only', () => {
    expect(token.matches('publish-token-0123456789')).toBe(true);
    expect(token.matches('publish-token-0123456780')).toBe(false);
    expect(token.matches(undefined)).toBe(false);
  });

  it('refuses tokens of other lengths, shorter, longer or empty', () => {
    expect(token.matches('publish-token-012345678')).toBe(false);
    expect(token.matches('publish-token-01234567890')).toBe(false);
    expect(token.matches('')).toBe(false);
  });

  it('compares bytes, not characters', () => {
    // As many characters as the secret, more bytes.
    expect(token.matches('publish-token-012345678é')).toBe(false);
    expect(new SecretToken('clé-0123').matches('clé-0123')).toBe(true);
  });
});

/**
 * KEK values published in docs and examples (or trivially guessable). A gateway configured with
 * one of them refuses to start.
 */
export const KNOWN_EXAMPLE_KEKS: readonly string[] = [
  // docs/secrets.md (the example key file)
  'cG9ydGN1bGxpcy1leGFtcGxlLWtlay1ub3QtcmVhbCE=',
  Buffer.from('0123456789abcdef0123456789abcdef').toString('base64'),
  Buffer.from('changemechangemechangemechangeme').toString('base64'),
  Buffer.from('passwordpasswordpasswordpassword').toString('base64'),
  Buffer.from('secretsecretsecretsecretsecretse').toString('base64'),
];

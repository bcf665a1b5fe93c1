/**
 * An attacker's self-signed Ed25519 certificate and its private key (made once with
 * `openssl req -x509 -newkey ed25519 -nodes -days 36500 -subj /CN=attacker.invalid`), for the
 * `x5c` and `x5u` cases: a verifier that trusted a certificate offered by the token itself
 * would accept tokens signed with this key. Test-only: it protects nothing.
 */
export const ATTACKER_CERTIFICATE = `-----BEGIN CERTIFICATE-----
MIIBTDCB/6ADAgECAhQtapMsI8TT2uUAZ4FmF/m8K7tXYTAFBgMrZXAwGzEZMBcG
A1UEAwwQYXR0YWNrZXIuaW52YWxpZDAgFw0yNjExMjcxMjQxMzVaGA8yMTI2MTEw
MzEyNDEzNVowGzEZMBcGA1UEAwwQYXR0YWNrZXIuaW52YWxpZDAqMAUGAytlcAMh
AJLIWugild7QYJG/Fao4vF1dUREDoATaDPt8m3zz68nvo1MwUTAdBgNVHQ4EFgQU
aLcLbbn0sy3nUbbm5V9LrzvQIx0wHwYDVR0jBBgwFoAUaLcLbbn0sy3nUbbm5V9L
rzvQIx0wDwYDVR0TAQH/BAUwAwEB/zAFBgMrZXADQQCLKBxzNIZG7wQpy8o9k4sO
3DrGub+TYpx/lAoKuBtd6Sa7NwaPkCg+BhQTNoCStSCgBB4uihVfWHrDF2sjI9QD
-----END CERTIFICATE-----
`;

export const ATTACKER_PRIVATE_KEY = `-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIHOnh5yEU5EGYd+jQiHgEf/338FTJfI0qKudcGrJF7da
-----END PRIVATE KEY-----
`;

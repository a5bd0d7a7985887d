// An example signed-identity token (API 1.5): HS256 with the sk_ string's
// bytes as the key, minted in the browser with WebCrypto. The sk_ never
// leaves the page.

const b64url = (bytes: Uint8Array): string => {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
};
const enc = new TextEncoder();

export async function signHs256(claims: Record<string, unknown>, secret: string, subtle: SubtleCrypto = crypto.subtle): Promise<string> {
  const header = b64url(enc.encode(JSON.stringify({ alg: 'HS256', typ: 'JWT' })));
  const body = b64url(enc.encode(JSON.stringify(claims)));
  const input = `${header}.${body}`;
  const key = await subtle.importKey('raw', enc.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const sig = new Uint8Array(await subtle.sign('HMAC', key, enc.encode(input)));
  return `${input}.${b64url(sig)}`;
}

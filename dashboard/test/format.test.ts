import { expect, test } from 'vitest';
import { countdown, toCsv } from '../src/lib/format';
import { signHs256 } from '../src/lib/jwt';

test('CSV quotes separators and defuses spreadsheet formulas', () => {
  expect(toCsv(['a', 'b'], [['x,y', 'say "hi"'], ['=SUM(A1)', 3]])).toBe('a,b\r\n"x,y","say ""hi"""\r\n\'=SUM(A1),3\r\n');
});

test('countdown', () => {
  expect(countdown('2026-12-01T01:02:03Z', Date.parse('2026-12-01T00:00:00Z'))).toBe('1 h 2 min');
  expect(countdown('2026-12-01T00:00:00Z', Date.parse('2026-12-01T00:00:05Z'))).toBe('0 s');
});

test('HS256 tokens minted with WebCrypto match a vector computed with another HMAC implementation', async () => {
  // node -e: createHmac('sha256', 'sk_test') over the same header and claims.
  expect(await signHs256({ sub: 'user-1', exp: 2000000000 }, 'sk_test')).toBe(
    'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyLTEiLCJleHAiOjIwMDAwMDAwMDB9.uNFIBHGsR4WDIdcTR4WZ45BHAjFVgm0_PvH0I4OfSa4',
  );
});

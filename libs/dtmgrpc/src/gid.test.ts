import { describe, expect, test } from 'vitest';
import { localGid } from './trans-base.ts';

const ALPHABET = '23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const decode = (gid: string): bigint => [...gid].reduce((n, c) => n * 57n + BigInt(ALPHABET.indexOf(c)), 0n);

describe('localGid', () => {
  test("has dtm's shape: 22 characters of the short-UUID alphabet", () => {
    for (let i = 0; i < 1000; i++) expect(localGid()).toMatch(/^[2-9A-HJ-NP-Za-km-z]{22}$/);
  });

  test('is a v4 UUID written in base 57 (version and variant bits set, the other 122 random)', () => {
    for (let i = 0; i < 1000; i++) {
      const hex = decode(localGid()).toString(16).padStart(32, '0');
      expect(hex.length).toBe(32);
      expect(hex[12]).toBe('4');
      expect('89ab').toContain(hex[16]);
    }
  });

  test('does not repeat, across refills of its random pool', () => {
    const n = 20_000; // the pool holds 256 gids: many refills
    expect(new Set(Array.from({ length: n }, localGid)).size).toBe(n);
  });

  test('uses every digit of the alphabet in every position but the first', () => {
    const seen = Array.from({ length: 22 }, () => new Set<string>());
    for (let i = 0; i < 5000; i++) {
      const g = localGid();
      for (let j = 0; j < g.length; j++) seen[j]?.add(g[j] as string);
    }
    for (let j = 1; j < 22; j++) expect(seen[j]?.size).toBe(57);
    // 57^22 ≈ 2^128.3: a 128-bit number's leading base-57 digit is at most ⌊2^128 / 57^21⌋ = 45.
    for (const c of seen[0] ?? []) expect(ALPHABET.indexOf(c)).toBeLessThanOrEqual(45);
    expect(seen[0]?.size).toBeGreaterThan(30);
  });
});

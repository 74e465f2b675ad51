import { describe, expect, it } from 'vitest';
import {
  blockedAddressReason,
  CALLBACK_URL_MAX_LENGTH,
  checkCallbackUrl,
  guardedLookup,
} from '../../../src/effects/callback-url.ts';

const PUBLIC_V4 = '93.184.215.14';
const PUBLIC_V6 = '2606:2800:21f:cb07:6820:80da:af6b:8b2c';

/** A resolver that knows only the names given; anything else fails like a DNS miss. */
function resolver(table: Record<string, string[]>) {
  const asked: string[] = [];
  const resolve = async (host: string) => {
    asked.push(host);
    const found = table[host];
    if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return found;
  };
  return { resolve, asked };
}

const publicDns = resolver({ 'sender.example': [PUBLIC_V4, PUBLIC_V6] }).resolve;
const prod = { allowLoopback: false, resolve: publicDns };
const loopback = { allowLoopback: true, resolve: publicDns };

describe('checkCallbackUrl', () => {
  it('accepts an https URL whose host resolves to public addresses only', async () => {
    expect(await checkCallbackUrl('https://sender.example/cb?x=1', prod)).toBeNull();
    expect(await checkCallbackUrl('https://sender.example:8443/hooks/sep31', prod)).toBeNull();
    expect(await checkCallbackUrl('https://SENDER.example./cb', prod)).toBeNull();
  });

  it('rejects what is not an absolute URL', async () => {
    for (const url of ['', 'not a url', '/relative/path', 'sender.example/cb', 'https://']) {
      expect(await checkCallbackUrl(url, prod), url).toMatch(/callback url/);
    }
  });

  it('accepts only https without allowLoopback', async () => {
    expect(await checkCallbackUrl('http://sender.example/cb', prod)).toBe('callback url must use https');
    for (const url of [
      'ftp://sender.example/cb',
      'file:///etc/passwd',
      'gopher://sender.example',
      'data:,x',
    ]) {
      expect(await checkCallbackUrl(url, prod), url).toMatch(/must use https/);
    }
  });

  it('rejects credentials in the URL', async () => {
    expect(await checkCallbackUrl('https://user:pass@sender.example/cb', prod)).toMatch(/credentials/);
    expect(await checkCallbackUrl('https://user@sender.example/cb', prod)).toMatch(/credentials/);
    expect(await checkCallbackUrl('http://user:pass@localhost:9000/cb', loopback)).toMatch(/credentials/);
  });

  it(`rejects URLs longer than ${CALLBACK_URL_MAX_LENGTH} characters`, async () => {
    const base = 'https://sender.example/';
    const fits = base + 'a'.repeat(CALLBACK_URL_MAX_LENGTH - base.length);
    expect(await checkCallbackUrl(fits, prod)).toBeNull();
    expect(await checkCallbackUrl(fits + 'a', prod)).toMatch(/at most 2048 characters/);
  });

  it('with allowLoopback accepts http and https to localhost and 127.0.0.1 on any port', async () => {
    for (const url of [
      'http://localhost/cb',
      'http://localhost:9000/cb',
      'http://127.0.0.1:65535/cb',
      'https://localhost:8443/cb',
      'http://LOCALHOST:1/',
    ]) {
      expect(await checkCallbackUrl(url, loopback), url).toBeNull();
    }
  });

  it('with allowLoopback still checks every other host', async () => {
    expect(await checkCallbackUrl('http://sender.example/cb', loopback)).toMatch(/must use https/);
    expect(await checkCallbackUrl('http://10.0.0.1/cb', loopback)).toMatch(/must use https/);
    expect(await checkCallbackUrl('https://10.0.0.1/cb', loopback)).toMatch(/not an IP address/);
    expect(await checkCallbackUrl('http://[::1]:9000/cb', loopback)).toMatch(/must use https/);
    expect(await checkCallbackUrl('https://sender.example/cb', loopback)).toBeNull();
  });

  it('without allowLoopback rejects localhost and loopback in every spelling', async () => {
    const urls = [
      'http://localhost:9000/cb',
      'https://localhost/cb',
      'https://api.localhost/cb',
      'https://127.0.0.1/cb',
      'https://127.1/cb',
      'https://2130706433/cb',
      'https://0x7f.0.0.1/cb',
      'https://[::1]/cb',
      'https://[::ffff:127.0.0.1]/cb',
      'https://0.0.0.0/cb',
    ];
    for (const url of urls) expect(await checkCallbackUrl(url, prod), url).not.toBeNull();
  });

  it('rejects IP literals, public or not', async () => {
    for (const url of [
      `https://${PUBLIC_V4}/cb`,
      `https://[${PUBLIC_V6}]/cb`,
      'https://10.1.2.3/cb',
      'https://169.254.169.254/latest/meta-data',
      'https://[fd00::1]/cb',
    ]) {
      expect(await checkCallbackUrl(url, prod), url).toBe(
        'callback url must use a host name, not an IP address',
      );
    }
  });

  it('rejects a host that resolves to a private address, even among public ones', async () => {
    const cases: Record<string, string[]> = {
      'rfc1918.example': ['10.0.0.8'],
      'mixed.example': [PUBLIC_V4, '192.168.1.10'],
      'metadata.example': ['169.254.169.254'],
      'loop.example': ['127.0.0.1'],
      'cgnat.example': ['100.64.1.1'],
      'ula.example': [PUBLIC_V6, 'fd12:3456:789a::1'],
      'linklocal6.example': ['fe80::1'],
      'mapped.example': ['::ffff:10.0.0.1'],
      'mappedhex.example': ['::ffff:a9fe:a9fe'],
      'loop6.example': ['::1'],
      'multicast.example': ['239.1.1.1'],
      'unspecified.example': ['0.0.0.0'],
    };
    const { resolve } = resolver(cases);
    for (const host of Object.keys(cases)) {
      const error = await checkCallbackUrl(`https://${host}/cb`, { allowLoopback: false, resolve });
      expect(error, host).toMatch(
        new RegExp(`^callback url host ${host.replace('.', '\\.')} resolves to a .* address`),
      );
    }
    expect(await checkCallbackUrl('https://metadata.example/cb', { allowLoopback: false, resolve })).toBe(
      'callback url host metadata.example resolves to a link-local address (169.254.169.254), which is not allowed',
    );
  });

  it('rejects a host that does not resolve, or resolves to nothing', async () => {
    const { resolve, asked } = resolver({ 'empty.example': [] });
    expect(await checkCallbackUrl('https://nowhere.example/cb', { allowLoopback: false, resolve })).toMatch(
      /host nowhere\.example cannot be resolved \(getaddrinfo ENOTFOUND nowhere\.example\)/,
    );
    expect(await checkCallbackUrl('https://empty.example/cb', { allowLoopback: false, resolve })).toMatch(
      /has no addresses/,
    );
    expect(asked).toEqual(['nowhere.example', 'empty.example']);
  });

  it('does not resolve at all for URLs that fail the static rules', async () => {
    const { resolve, asked } = resolver({});
    await checkCallbackUrl('http://sender.example/cb', { allowLoopback: false, resolve });
    await checkCallbackUrl('https://u:p@sender.example/cb', { allowLoopback: false, resolve });
    await checkCallbackUrl('http://localhost:9/cb', { allowLoopback: true, resolve });
    expect(asked).toEqual([]);
  });
});

describe('blockedAddressReason', () => {
  it.each([
    ['0.1.2.3', 'unspecified'],
    ['10.255.255.255', 'private'],
    ['100.64.0.0', 'carrier-grade NAT'],
    ['100.127.255.255', 'carrier-grade NAT'],
    ['127.0.0.1', 'loopback'],
    ['169.254.169.254', 'link-local'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.0.1', 'private'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['fc00::1', 'unique-local'],
    ['fdff:ffff::1', 'unique-local'],
    ['fe80::1%eth0', 'link-local'],
    ['febf::1', 'link-local'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:192.168.1.1', 'private'],
    ['0:0:0:0:0:ffff:a00:1', 'private'],
    ['64:ff9b::10.0.0.1', 'private'],
    ['2002:a00:1::', 'private'],
    ['::127.0.0.1', 'reserved'],
    ['2001:db8::1', 'documentation'],
    ['2001::1', 'reserved'],
    ['not-an-ip', 'unparseable'],
  ])('%s is %s', (address, reason) => {
    expect(blockedAddressReason(address)).toBe(reason);
  });

  it.each([
    '8.8.8.8',
    '1.1.1.1',
    '100.128.0.1',
    '172.32.0.1',
    '192.169.0.1',
    PUBLIC_V4,
    PUBLIC_V6,
    '::ffff:8.8.8.8',
    '2002:808:808::1',
    '64:ff9b::8.8.8.8',
    '2a00:1450:4001:80b::200e',
  ])('%s is public', (address) => {
    expect(blockedAddressReason(address)).toBeNull();
  });
});

describe('guardedLookup', () => {
  function lookupOnce(table: Record<string, string[]>, host: string, all: boolean) {
    const look = guardedLookup(resolver(table).resolve);
    return new Promise<{ error: NodeJS.ErrnoException | null; address: unknown; family?: number }>((done) =>
      look(host, { all }, (error, address, family) => done({ error, address, family })),
    );
  }

  it('hands over public addresses, in both lookup shapes', async () => {
    const table = { 'sender.example': [PUBLIC_V4, PUBLIC_V6] };
    expect(await lookupOnce(table, 'sender.example', false)).toEqual({
      error: null,
      address: PUBLIC_V4,
      family: 4,
    });
    expect((await lookupOnce(table, 'sender.example', true)).address).toEqual([
      { address: PUBLIC_V4, family: 4 },
      { address: PUBLIC_V6, family: 6 },
    ]);
  });

  it('refuses a host that now resolves to a private address (DNS rebinding)', async () => {
    const result = await lookupOnce({ 'rebind.example': ['10.0.0.5'] }, 'rebind.example', true);
    expect(result.error?.code).toBe('EBLOCKEDADDRESS');
    expect(result.error?.message).toMatch(/private address 10\.0\.0\.5/);
  });

  it('passes resolution errors through', async () => {
    const result = await lookupOnce({}, 'gone.example', false);
    expect(result.error?.code).toBe('ENOTFOUND');
  });
});

import { Keypair } from '@stellar/stellar-sdk';
import { describe, expect, it } from 'vitest';
import { CallbackDeliveryError, deliverCallback } from '../../../src/effects/delivery.ts';

const secret = Keypair.random().secret();
const NOW = new Date('2026-11-24T12:00:00Z');

describe('deliverCallback', () => {
  it('re-checks the URL at send time and sends nothing when it fails', async () => {
    const asked: string[] = [];
    const resolve = async (host: string) => {
      asked.push(host);
      return ['10.0.0.7'];
    };
    const attempt = deliverCallback(
      { url: 'https://sender.example/cb', body: '{}', now: NOW },
      { signingSecret: secret, allowLoopback: false, resolve },
    );
    await expect(attempt).rejects.toThrow(
      'callback url host sender.example resolves to a private address (10.0.0.7), which is not allowed',
    );
    expect(asked).toEqual(['sender.example']);
    await expect(
      deliverCallback(
        { url: 'http://sender.example/cb', body: '{}', now: NOW },
        { signingSecret: secret, allowLoopback: false },
      ),
    ).rejects.toBeInstanceOf(CallbackDeliveryError);
  });

  it('refuses to connect when the host re-resolves to a private address after the check (DNS rebinding)', async () => {
    const answers = [['93.184.215.14'], ['127.0.0.1']];
    const asked: string[] = [];
    const resolve = async (host: string) => {
      asked.push(host);
      return answers.shift() ?? ['127.0.0.1'];
    };
    const attempt = deliverCallback(
      { url: 'https://rebind.example:8443/cb', body: '{}', now: NOW },
      { signingSecret: secret, allowLoopback: false, resolve },
    );
    await expect(attempt).rejects.toThrow(
      /^callback to rebind\.example:8443 failed: refusing to connect to rebind\.example: loopback address 127\.0\.0\.1/,
    );
    expect(asked).toEqual(['rebind.example', 'rebind.example']);
  });
});

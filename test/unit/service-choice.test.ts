import { describe, expect, test } from 'vitest';
import { chooseService, defaultServiceUrl } from '../../bin/cli/service.ts';

const demo = {
  file: '.tiebreak/local/demo-site.json',
  content: { witnessUrl: 'http://127.0.0.1:9100', apiKey: 'tbk.demo-reseller.k1.secret' },
};
const env = { TIEBREAK_URL: 'https://witness.example/', TIEBREAK_API_KEY: 'tbk.acme-it.k2.secret' };

describe('where a command finds the service: --url, else TIEBREAK_URL, else the demo file, else the default', () => {
  test('--url wins over everything', () => {
    expect(chooseService({ url: 'http://10.0.0.5:8787', env, demo })).toMatchObject({ url: 'http://10.0.0.5:8787', urlFrom: '--url' });
  });

  test('TIEBREAK_URL wins over the demo file', () => {
    expect(chooseService({ env, demo })).toMatchObject({ url: 'https://witness.example/', urlFrom: 'TIEBREAK_URL' });
  });

  test("the demo file's witness URL (npm start's port, not always 8787) comes before the default", () => {
    expect(chooseService({ env: {}, demo })).toMatchObject({ url: 'http://127.0.0.1:9100', urlFrom: demo.file });
  });

  test('nothing at all: the default local service', () => {
    expect(chooseService({ env: {} })).toMatchObject({ url: defaultServiceUrl, urlFrom: 'the default', key: undefined });
  });

  test('an empty flag or variable counts as unset', () => {
    expect(chooseService({ url: '', env: { TIEBREAK_URL: ' ', TIEBREAK_API_KEY: '' }, demo })).toMatchObject({
      url: 'http://127.0.0.1:9100',
      key: 'tbk.demo-reseller.k1.secret',
    });
  });
});

describe('where it finds the key: TIEBREAK_API_KEY, else the demo reseller’s for the demo service only', () => {
  test('TIEBREAK_API_KEY wins over the demo file', () => {
    expect(chooseService({ env: { TIEBREAK_API_KEY: env.TIEBREAK_API_KEY }, demo })).toMatchObject({
      url: 'http://127.0.0.1:9100',
      key: env.TIEBREAK_API_KEY,
      keyFrom: 'TIEBREAK_API_KEY',
    });
  });

  test("the demo reseller's key, when the service is the demo file's (named by --url or not)", () => {
    expect(chooseService({ env: {}, demo })).toMatchObject({ key: demo.content.apiKey, keyFrom: demo.file });
    expect(chooseService({ url: 'http://127.0.0.1:9100/', env: {}, demo })).toMatchObject({ key: demo.content.apiKey });
  });

  test('the local demo key is never sent to another service', () => {
    expect(chooseService({ url: 'https://witness.example/', env: {}, demo })).toMatchObject({ key: undefined, keyFrom: undefined });
    expect(chooseService({ env: { TIEBREAK_URL: 'http://127.0.0.1:8787' }, demo })).toMatchObject({ key: undefined });
  });

  test('a demo file whose key was lost (npm start leaves a note in its place) gives no key', () => {
    const lost = { ...demo, content: { ...demo.content, apiKey: '(lost: create one with the admin key, see the README)' } };
    expect(chooseService({ env: {}, demo: lost })).toMatchObject({ url: 'http://127.0.0.1:9100', key: undefined });
  });
});

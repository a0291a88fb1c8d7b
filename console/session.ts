/**
 * Where the console keeps the reseller's API key: this tab's sessionStorage, and nowhere else (not
 * localStorage, not a cookie, never a URL or a log). It dies with the tab; signing out removes it.
 */
const storageKey = 'tiebreak.apiKey';

export function storedKey(): string | null {
  try {
    return sessionStorage.getItem(storageKey);
  } catch {
    // Storage refused (a privacy mode): the console cannot keep a key.
    return null;
  }
}

export function storeKey(key: string): void {
  sessionStorage.setItem(storageKey, key);
}

export function forgetKey(): void {
  sessionStorage.removeItem(storageKey);
}

/**
 * Where a client address is, as far as an offline database can tell: the country's ISO 3166-1
 * alpha-2 code ("DE"), or null when the address is private or the database does not know it.
 */
export interface Locator {
  /** Synchronous and never throws: it runs while a sign-in is being answered. */
  countryOf(ip: string): string | null;
}

/** GATEHOUSE_GEOIP_DATABASE=off: no location for anyone, and no database in memory. */
export const noLocation: Locator = { countryOf: () => null };

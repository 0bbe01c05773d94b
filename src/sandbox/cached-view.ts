/**
 * An ordered array built from a store, kept until the store changes. Paging through 100k contacts
 * a page at a time then costs one sort, not one per page.
 */
export class CachedView<T> {
  private cached: T[] | undefined;

  constructor(private readonly build: () => T[]) {}

  get(): T[] {
    this.cached ??= this.build();
    return this.cached;
  }

  invalidate(): void {
    this.cached = undefined;
  }
}

/** Page `page` (1-based) of `items`. */
export function pageOf<T>(items: readonly T[], page: number, perPage: number): { slice: T[]; totalPages: number } {
  return { slice: items.slice((page - 1) * perPage, page * perPage), totalPages: Math.ceil(items.length / perPage) };
}

/**
 * fauxqs modules its package does not export (its exports map has only the entry point): its SQLite persistence,
 * stores, and SNS filter-policy evaluator. Loaded by file URL from the installed package; the version is pinned in
 * package.json because these paths are not its public API.
 *
 * @module
 */

/** Imports `file` (e.g. `./sns/filter.js`) from the installed fauxqs package's dist folder. */
export async function importFauxqsModule<T>(file: string): Promise<T> {
  return (await import(new URL(file, import.meta.resolve('fauxqs')).href)) as T;
}

/**
 * Imported first by the CLI: drops Node 22's "SQLite is an experimental feature" warning, which fauxqs triggers by
 * loading node:sqlite for its optional persistence. Every other warning still prints.
 *
 * @module
 */
const emit = process.emitWarning.bind(process) as (...args: unknown[]) => void;
process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
  const text = typeof warning === 'string' ? warning : warning.message;
  if (text.includes('SQLite is an experimental feature')) return;
  emit(warning, ...rest);
}) as typeof process.emitWarning;

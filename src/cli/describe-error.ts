/** The text a person sees on stderr when a command stops on an error. */
import { CommanderError } from 'commander';
import { ConfigError, ContactSyncError } from '../errors.js';

export function describeError(error: unknown): string {
  if (error instanceof ConfigError) {
    const lines = error.issues.map((i) => `  ${i.file}${i.path ? ` at ${i.path}` : ''}: ${i.message}`);
    return [`contact-sync: the config is not valid (${error.issues.length} problem${error.issues.length === 1 ? '' : 's'}):`, ...lines].join('\n');
  }
  // commander has already printed its own message (with a hint to --help).
  if (error instanceof CommanderError) return '';
  if (error instanceof ContactSyncError) return `contact-sync: ${error.message}`;
  return `contact-sync: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
}

// "Load a registration for pinging": read the file now (the tokens used are
// the ones on disk at this moment), parse it, and say in one sentence why it
// cannot be used. The CLI and the extension both load registrations here.
import type { AsToken, NotUsable } from './ping';
import { describeError } from './errors';
import { t } from './l10n';
import { registerSecret } from './redact';
import { AppserviceRegistration, parseRegistration, ParsedRegistration, RegistrationProblem } from './registration';

/** `parsed` is the whole parse result (for findConflicts and the doctor); empty for an unreadable file. */
export type LoadedRegistration =
  | { registration: AppserviceRegistration; problems: RegistrationProblem[]; parsed: ParsedRegistration }
  | {
      problem: string;
      nextStep?: string;
      problems: RegistrationProblem[];
      parsed: ParsedRegistration;
      unreadable?: true;
      /** The file's id, when it has one. */ id?: string;
    };

/**
 * The parse of `text` when the caller holds one already: the extension's
 * catalog keeps the last parse of every file, and most pings read a file that
 * has not changed since. Undefined = parse it here.
 */
export type KnownParse = (file: string, text: string) => ParsedRegistration | undefined;

/** Never throws. Registers the file's tokens with the redactor before anyone can log them. */
export async function loadRegistrationForPing(
  readText: (file: string) => Promise<string>,
  file: string,
  known?: KnownParse,
): Promise<LoadedRegistration> {
  let text: string;
  try {
    text = await readText(file);
  } catch (e) {
    return {
      problem: t('Could not read the registration file {0}: {1}', file, describeError(e)),
      nextStep: t('Check that the file exists and is readable.'),
      problems: [],
      parsed: { problems: [] },
      unreadable: true,
    };
  }
  const parsed = known?.(file, text) ?? parseRegistration(text, file);
  const { registration, problems, id } = parsed;
  if (registration) {
    registerSecret(registration.asToken);
    registerSecret(registration.hsToken);
    return { registration, problems, parsed };
  }
  const first = problems.find((p) => p.severity === 'error') ?? problems[0];
  return {
    problem: first
      ? t('The registration file cannot be used: {0} (line {1}).', first.message, first.line)
      : t('The registration file cannot be used.'),
    nextStep: t('Fix the problems shown for the file in the Problems panel.'),
    problems,
    parsed,
    id: id?.value,
  };
}

/** The as_token to ping with, from a loaded registration. */
export function asTokenOf(loaded: { registration: AppserviceRegistration } | NotUsable): AsToken | NotUsable {
  if ('problem' in loaded) return loaded;
  if (!loaded.registration.asToken) {
    return {
      problem: t('The registration file has no as_token.'),
      nextStep: t('Add the as_token the homeserver was given for this appservice to the file.'),
    };
  }
  return { asToken: loaded.registration.asToken, registrationId: loaded.registration.id || undefined };
}
